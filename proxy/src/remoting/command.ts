/**
 * The RemotingCommand: the single message shape of RocketMQ's Remoting protocol, in both
 * directions. Header values are always strings on the wire (`extFields`); typed request
 * builders in `requests/` convert to and from them.
 */

/** Bit 0 of `flag`: the frame is a response. */
export const FLAG_RESPONSE = 1;
/** Bit 1 of `flag`: a request that expects no response. */
export const FLAG_ONEWAY = 2;

/** Header encodings a peer may use; responses come in the server's configured encoding. */
export type SerializeType = 'JSON' | 'ROCKETMQ';

export interface RemotingCommand {
  /** Request code (requests) or response code (responses). */
  code: number;
  /** Sender's language by enum name (`JAVA`, `NODE_JS`, …); unknown names are kept as sent. */
  language: string;
  /** Sender's version ordinal (MQVersion.Version). */
  version: number;
  /** Request id, echoed by the response; a signed int32. */
  opaque: number;
  flag: number;
  remark?: string | undefined;
  extFields?: Record<string, string> | undefined;
  /** Raw body bytes; absent when the frame carries none (empty and absent are the same on the wire). */
  body?: Buffer | undefined;
}

/** The part of a request that a builder decides; the connection fills in the rest. */
export interface RequestSpec {
  code: number;
  extFields?: Record<string, string> | undefined;
  body?: Buffer | undefined;
}

export function isResponse(command: RemotingCommand): boolean {
  return (command.flag & FLAG_RESPONSE) === FLAG_RESPONSE;
}

export function isOneway(command: RemotingCommand): boolean {
  return (command.flag & FLAG_ONEWAY) === FLAG_ONEWAY;
}

/** Language and version we announce: JAVA is the most tested path on every 5.x broker. */
export const CLIENT_LANGUAGE = 'JAVA';
/** V5_3_3's ordinal: ≥ 401 makes route bodies standard JSON; > 475 opts into GO_AWAY on shutdown. */
export const CLIENT_VERSION = 479;
