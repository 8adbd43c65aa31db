/*
 * Drives the official RocketMQ Java client (org.apache.rocketmq:rocketmq-client-java) for our TypeScript
 * end-to-end tests: one JVM serves many test steps. Protocol, one JSON object per line:
 *
 *   stdin   {"id": 1, "op": "producer.start", ...}
 *   stdout  {"id": 1, "ok": true, ...}  or  {"id": 1, "ok": false, "error": {"type", "message", "code"}}
 *           {"event": "check", ...}      (a transaction checker call; no id)
 *           {"event": "consumed", ...}   (a push consumer's listener call and the result it returned; no id)
 *           {"event": "ready"}           (once, at start-up)
 *
 * Commands run concurrently (a send can wait on the proxy while another command is served). Everything the
 * client library prints goes to stderr, so stdout carries protocol lines only.
 */

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientException;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.FilterExpressionType;
import org.apache.rocketmq.client.apis.consumer.ConsumeResult;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.message.MessageBuilder;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.ProducerBuilder;
import org.apache.rocketmq.client.apis.producer.RecallReceipt;
import org.apache.rocketmq.client.apis.producer.SendReceipt;
import org.apache.rocketmq.client.apis.producer.Transaction;
import org.apache.rocketmq.client.apis.producer.TransactionResolution;

public final class RmqpClientDriver {
    private static final PrintStream PROTOCOL_OUT = System.out;
    private static final ClientServiceProvider PROVIDER = ClientServiceProvider.loadService();
    private static final Map<String, Producer> PRODUCERS = new ConcurrentHashMap<>();
    private static final Map<String, SimpleConsumer> CONSUMERS = new ConcurrentHashMap<>();
    private static final Map<String, PushConsumer> PUSH_CONSUMERS = new ConcurrentHashMap<>();
    /** Received messages by consumer name + message id, so a later ack can name them. */
    private static final Map<String, MessageView> RECEIVED = new ConcurrentHashMap<>();
    /** A user property that overrides the checker's answer for one message (see java-client.ts). */
    private static final String CHECK_RESOLUTION_PROPERTY = "rmqp-check-resolution";
    private static final Pattern RESPONSE_CODE = Pattern.compile("response-?code[=:]\\s*(\\d+)", Pattern.CASE_INSENSITIVE);

    private RmqpClientDriver() {
    }

    public static void main(String[] args) throws Exception {
        // The client library (and anything else) must never write on the protocol stream.
        System.setOut(System.err);
        ExecutorService workers = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "rmqp-driver");
            thread.setDaemon(true);
            return thread;
        });
        emit(Map.<String, Object>of("event", "ready", "javaVersion", System.getProperty("java.version")));
        BufferedReader input = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = input.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            final Map<String, Object> command;
            try {
                command = Json.object(Json.parse(line), "command");
            } catch (RuntimeException error) {
                emit(failure(null, error));
                continue;
            }
            if ("exit".equals(command.get("op"))) {
                break;
            }
            workers.submit(() -> emit(run(command)));
        }
        closeAll();
        emit(Map.<String, Object>of("event", "exited"));
        System.exit(0);
    }

    private static Map<String, Object> run(Map<String, Object> command) {
        Object id = command.get("id");
        try {
            Map<String, Object> result = dispatch(command);
            result.put("id", id);
            result.put("ok", true);
            return result;
        } catch (Throwable error) {
            return failure(id, error);
        }
    }

    private static Map<String, Object> dispatch(Map<String, Object> c) throws Exception {
        String op = Json.string(c, "op");
        switch (op) {
            case "producer.start":
                return startProducer(c);
            case "producer.send":
                return send(c);
            case "producer.recall":
                return recall(c);
            case "producer.close":
                return close(PRODUCERS.remove(Json.string(c, "producer")));
            case "consumer.start":
                return startConsumer(c);
            case "consumer.receive":
                return receive(c);
            case "consumer.ack":
                return ack(c);
            case "consumer.changeInvisible":
                return changeInvisible(c);
            case "consumer.close":
                return close(CONSUMERS.remove(Json.string(c, "consumer")));
            case "push.start":
                return startPushConsumer(c);
            case "push.close":
                return close(PUSH_CONSUMERS.remove(Json.string(c, "consumer")));
            case "ping":
                return new LinkedHashMap<>();
            default:
                throw new IllegalArgumentException("unknown op: " + op);
        }
    }

    private static ClientConfiguration configuration(Map<String, Object> c) {
        return ClientConfiguration.newBuilder()
            .setEndpoints(Json.string(c, "endpoint"))
            .enableSsl(Json.bool(c, "tls", true))
            .setRequestTimeout(Duration.ofMillis(Json.number(c, "requestTimeoutMs", 5000)))
            .build();
    }

    private static Map<String, Object> startProducer(Map<String, Object> c) throws ClientException {
        String name = Json.string(c, "producer");
        ProducerBuilder builder = PROVIDER.newProducerBuilder().setClientConfiguration(configuration(c));
        List<String> topics = Json.strings(c, "topics");
        if (!topics.isEmpty()) {
            builder.setTopics(topics.toArray(new String[0]));
        }
        if (c.get("maxAttempts") != null) {
            builder.setMaxAttempts((int) Json.number(c, "maxAttempts", 3));
        }
        Object checker = c.get("checker");
        if (checker != null) {
            TransactionResolution fallback = TransactionResolution.valueOf((String) checker);
            builder.setTransactionChecker(view -> {
                // A message can name its own answer, so one producer serves commit and rollback scenarios.
                String wanted = view.getProperties().get(CHECK_RESOLUTION_PROPERTY);
                TransactionResolution decision = wanted == null ? fallback : TransactionResolution.valueOf(wanted);
                Map<String, Object> event = messageJson(view);
                event.put("event", "check");
                event.put("producer", name);
                event.put("resolution", decision.name());
                emit(event);
                return decision;
            });
        }
        PRODUCERS.put(name, builder.build());
        return new LinkedHashMap<>();
    }

    private static Producer producer(Map<String, Object> c) {
        String name = Json.string(c, "producer");
        Producer producer = PRODUCERS.get(name);
        if (producer == null) {
            throw new IllegalArgumentException("no producer named " + name);
        }
        return producer;
    }

    private static Message buildMessage(Map<String, Object> m) {
        MessageBuilder builder = PROVIDER.newMessageBuilder()
            .setTopic(Json.string(m, "topic"))
            .setBody(Base64.getDecoder().decode(Json.string(m, "body")));
        if (m.get("tag") != null) {
            builder.setTag(Json.string(m, "tag"));
        }
        List<String> keys = Json.strings(m, "keys");
        if (!keys.isEmpty()) {
            builder.setKeys(keys.toArray(new String[0]));
        }
        if (m.get("messageGroup") != null) {
            builder.setMessageGroup(Json.string(m, "messageGroup"));
        }
        if (m.get("deliveryTimestamp") != null) {
            builder.setDeliveryTimestamp(Json.number(m, "deliveryTimestamp", 0));
        }
        Object properties = m.get("properties");
        if (properties != null) {
            for (Map.Entry<String, Object> entry : Json.object(properties, "properties").entrySet()) {
                builder.addProperty(entry.getKey(), String.valueOf(entry.getValue()));
            }
        }
        return builder.build();
    }

    private static Map<String, Object> send(Map<String, Object> c) throws ClientException {
        Producer producer = producer(c);
        Message message = buildMessage(Json.object(c.get("message"), "message"));
        Object transaction = c.get("transaction");
        Map<String, Object> result = new LinkedHashMap<>();
        SendReceipt receipt;
        if (transaction == null) {
            receipt = producer.send(message);
        } else {
            Transaction tx = producer.beginTransaction();
            receipt = producer.send(message, tx);
            switch ((String) transaction) {
                case "commit":
                    tx.commit();
                    break;
                case "rollback":
                    tx.rollback();
                    break;
                case "none":
                    // Left unresolved on purpose: the broker's check must resolve it through the checker.
                    break;
                default:
                    throw new IllegalArgumentException("transaction must be commit, rollback or none");
            }
        }
        result.put("messageId", receipt.getMessageId().toString());
        result.put("recallHandle", receipt.getRecallHandle());
        return result;
    }

    private static Map<String, Object> recall(Map<String, Object> c) throws ClientException {
        RecallReceipt receipt = producer(c).recallMessage(Json.string(c, "topic"), Json.string(c, "recallHandle"));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("messageId", receipt.getMessageId().toString());
        return result;
    }

    private static Map<String, Object> startConsumer(Map<String, Object> c) throws ClientException {
        String name = Json.string(c, "consumer");
        String filter = c.get("filter") == null ? "*" : Json.string(c, "filter");
        SimpleConsumer consumer = PROVIDER.newSimpleConsumerBuilder()
            .setClientConfiguration(configuration(c))
            .setConsumerGroup(Json.string(c, "group"))
            .setAwaitDuration(Duration.ofMillis(Json.number(c, "awaitMs", 5000)))
            .setSubscriptionExpressions(Map.of(Json.string(c, "topic"), new FilterExpression(filter, FilterExpressionType.TAG)))
            .build();
        CONSUMERS.put(name, consumer);
        return new LinkedHashMap<>();
    }

    private static Map<String, Object> receive(Map<String, Object> c) throws ClientException {
        String name = Json.string(c, "consumer");
        SimpleConsumer consumer = CONSUMERS.get(name);
        if (consumer == null) {
            throw new IllegalArgumentException("no consumer named " + name);
        }
        List<MessageView> views = consumer.receive((int) Json.number(c, "max", 16),
            Duration.ofMillis(Json.number(c, "invisibleMs", 15000)));
        List<Object> messages = new ArrayList<>();
        for (MessageView view : views) {
            RECEIVED.put(name + "/" + view.getMessageId(), view);
            messages.add(messageJson(view));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("messages", messages);
        return result;
    }

    private static Map<String, Object> ack(Map<String, Object> c) throws ClientException {
        String name = Json.string(c, "consumer");
        MessageView view = RECEIVED.remove(name + "/" + Json.string(c, "messageId"));
        if (view == null) {
            throw new IllegalArgumentException("no received message " + c.get("messageId"));
        }
        CONSUMERS.get(name).ack(view);
        return new LinkedHashMap<>();
    }

    private static Map<String, Object> changeInvisible(Map<String, Object> c) throws ClientException {
        String name = Json.string(c, "consumer");
        MessageView view = RECEIVED.get(name + "/" + Json.string(c, "messageId"));
        if (view == null) {
            throw new IllegalArgumentException("no received message " + c.get("messageId"));
        }
        // The client swaps the view's receipt handle for the new one, so a later ack uses the right handle.
        CONSUMERS.get(name).changeInvisibleDuration(view, Duration.ofMillis(Json.number(c, "invisibleMs", 15000)));
        return new LinkedHashMap<>();
    }

    /**
     * A push consumer whose listener reports every call as a "consumed" event. It answers SUCCESS unless
     * the message carries the user property "rmqp-consume-result" = FAILURE (to exercise redelivery).
     */
    private static Map<String, Object> startPushConsumer(Map<String, Object> c) throws ClientException {
        String name = Json.string(c, "consumer");
        String filter = c.get("filter") == null ? "*" : Json.string(c, "filter");
        PushConsumer consumer = PROVIDER.newPushConsumerBuilder()
            .setClientConfiguration(configuration(c))
            .setConsumerGroup(Json.string(c, "group"))
            .setSubscriptionExpressions(Map.of(Json.string(c, "topic"), new FilterExpression(filter, FilterExpressionType.TAG)))
            .setConsumptionThreadCount((int) Json.number(c, "threads", 4))
            .setMessageListener(view -> {
                ConsumeResult result = "FAILURE".equals(view.getProperties().get("rmqp-consume-result"))
                    ? ConsumeResult.FAILURE : ConsumeResult.SUCCESS;
                Map<String, Object> event = messageJson(view);
                event.put("event", "consumed");
                event.put("consumer", name);
                event.put("result", result.name());
                event.put("at", System.currentTimeMillis());
                emit(event);
                return result;
            })
            .build();
        PUSH_CONSUMERS.put(name, consumer);
        return new LinkedHashMap<>();
    }

    private static Map<String, Object> close(AutoCloseable client) throws Exception {
        if (client != null) {
            client.close();
        }
        return new LinkedHashMap<>();
    }

    private static void closeAll() {
        for (AutoCloseable client : new ArrayList<AutoCloseable>(PRODUCERS.values())) {
            try {
                client.close();
            } catch (Exception ignored) {
                // Exiting anyway.
            }
        }
        for (AutoCloseable client : new ArrayList<AutoCloseable>(PUSH_CONSUMERS.values())) {
            try {
                client.close();
            } catch (Exception ignored) {
                // Exiting anyway.
            }
        }
        for (AutoCloseable client : new ArrayList<AutoCloseable>(CONSUMERS.values())) {
            try {
                client.close();
            } catch (Exception ignored) {
                // Exiting anyway.
            }
        }
    }

    private static Map<String, Object> messageJson(MessageView view) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("messageId", view.getMessageId().toString());
        json.put("topic", view.getTopic());
        ByteBuffer body = view.getBody().duplicate();
        byte[] bytes = new byte[body.remaining()];
        body.get(bytes);
        json.put("body", Base64.getEncoder().encodeToString(bytes));
        json.put("tag", view.getTag().orElse(null));
        json.put("keys", new ArrayList<>(view.getKeys()));
        json.put("messageGroup", view.getMessageGroup().orElse(null));
        json.put("deliveryTimestamp", view.getDeliveryTimestamp().orElse(null));
        json.put("properties", new LinkedHashMap<String, Object>(view.getProperties()));
        json.put("bornTimestamp", view.getBornTimestamp());
        json.put("deliveryAttempt", view.getDeliveryAttempt());
        return json;
    }

    private static Map<String, Object> failure(Object id, Throwable error) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("type", error.getClass().getName());
        String message = String.valueOf(error.getMessage());
        details.put("message", message);
        Matcher code = RESPONSE_CODE.matcher(message);
        details.put("code", code.find() ? Long.parseLong(code.group(1)) : null);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("id", id);
        result.put("ok", false);
        result.put("error", details);
        return result;
    }

    private static void emit(Map<String, Object> line) {
        String text = Json.write(line);
        synchronized (PROTOCOL_OUT) {
            PROTOCOL_OUT.println(text);
            PROTOCOL_OUT.flush();
        }
    }

    /** A small JSON reader/writer: objects, arrays, strings, numbers (as long or double), booleans, null. */
    static final class Json {
        private final String text;
        private int at;

        private Json(String text) {
            this.text = text;
        }

        static Object parse(String text) {
            Json json = new Json(text);
            Object value = json.value();
            json.skipSpace();
            if (json.at != text.length()) {
                throw json.error("trailing characters");
            }
            return value;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(Object value, String what) {
            if (!(value instanceof Map)) {
                throw new IllegalArgumentException(what + " must be a JSON object");
            }
            return (Map<String, Object>) value;
        }

        static String string(Map<String, Object> map, String key) {
            Object value = map.get(key);
            if (!(value instanceof String)) {
                throw new IllegalArgumentException(key + " must be a string");
            }
            return (String) value;
        }

        static long number(Map<String, Object> map, String key, long fallback) {
            Object value = map.get(key);
            if (value == null) {
                return fallback;
            }
            if (!(value instanceof Number)) {
                throw new IllegalArgumentException(key + " must be a number");
            }
            return ((Number) value).longValue();
        }

        static boolean bool(Map<String, Object> map, String key, boolean fallback) {
            Object value = map.get(key);
            if (value == null) {
                return fallback;
            }
            if (!(value instanceof Boolean)) {
                throw new IllegalArgumentException(key + " must be a boolean");
            }
            return (Boolean) value;
        }

        static List<String> strings(Map<String, Object> map, String key) {
            Object value = map.get(key);
            List<String> out = new ArrayList<>();
            if (value == null) {
                return out;
            }
            if (!(value instanceof List)) {
                throw new IllegalArgumentException(key + " must be an array of strings");
            }
            for (Object item : (List<?>) value) {
                if (!(item instanceof String)) {
                    throw new IllegalArgumentException(key + " must be an array of strings");
                }
                out.add((String) item);
            }
            return out;
        }

        private IllegalArgumentException error(String why) {
            return new IllegalArgumentException("bad JSON at " + at + ": " + why);
        }

        private void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private Object value() {
            skipSpace();
            if (at >= text.length()) {
                throw error("unexpected end");
            }
            char first = text.charAt(at);
            switch (first) {
                case '{':
                    return objectValue();
                case '[':
                    return arrayValue();
                case '"':
                    return stringValue();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    return numberValue();
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, at)) {
                throw error("expected " + word);
            }
            at += word.length();
            return value;
        }

        private Map<String, Object> objectValue() {
            Map<String, Object> map = new LinkedHashMap<>();
            at++;
            skipSpace();
            if (at < text.length() && text.charAt(at) == '}') {
                at++;
                return map;
            }
            for (;;) {
                skipSpace();
                if (at >= text.length() || text.charAt(at) != '"') {
                    throw error("expected a key");
                }
                String key = stringValue();
                skipSpace();
                expect(':');
                map.put(key, value());
                skipSpace();
                if (at < text.length() && text.charAt(at) == ',') {
                    at++;
                    continue;
                }
                expect('}');
                return map;
            }
        }

        private List<Object> arrayValue() {
            List<Object> list = new ArrayList<>();
            at++;
            skipSpace();
            if (at < text.length() && text.charAt(at) == ']') {
                at++;
                return list;
            }
            for (;;) {
                list.add(value());
                skipSpace();
                if (at < text.length() && text.charAt(at) == ',') {
                    at++;
                    continue;
                }
                expect(']');
                return list;
            }
        }

        private void expect(char c) {
            if (at >= text.length() || text.charAt(at) != c) {
                throw error("expected '" + c + "'");
            }
            at++;
        }

        private String stringValue() {
            StringBuilder out = new StringBuilder();
            at++;
            while (at < text.length()) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (at >= text.length()) {
                    break;
                }
                char escaped = text.charAt(at++);
                switch (escaped) {
                    case 'n': out.append('\n'); break;
                    case 't': out.append('\t'); break;
                    case 'r': out.append('\r'); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'u':
                        if (at + 4 > text.length()) {
                            throw error("short \\u escape");
                        }
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                        break;
                    default: out.append(escaped);
                }
            }
            throw error("unterminated string");
        }

        private Number numberValue() {
            int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            String number = text.substring(start, at);
            if (number.isEmpty()) {
                throw error("unexpected character");
            }
            if (number.contains(".") || number.contains("e") || number.contains("E")) {
                return Double.parseDouble(number);
            }
            return Long.parseLong(number);
        }

        static String write(Object value) {
            StringBuilder out = new StringBuilder();
            write(out, value);
            return out.toString();
        }

        private static void write(StringBuilder out, Object value) {
            if (value == null) {
                out.append("null");
            } else if (value instanceof String) {
                writeString(out, (String) value);
            } else if (value instanceof Number || value instanceof Boolean) {
                out.append(value);
            } else if (value instanceof Map) {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    writeString(out, String.valueOf(entry.getKey()));
                    out.append(':');
                    write(out, entry.getValue());
                }
                out.append('}');
            } else if (value instanceof Iterable) {
                out.append('[');
                boolean first = true;
                for (Object item : (Iterable<?>) value) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    write(out, item);
                }
                out.append(']');
            } else {
                writeString(out, value.toString());
            }
        }

        private static void writeString(StringBuilder out, String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    out.append('\\').append(c);
                } else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                    out.append(String.format("\\u%04x", (int) c));
                } else {
                    out.append(c);
                }
            }
            out.append('"');
        }
    }
}
