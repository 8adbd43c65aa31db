/** Prints the RocketMQProxy field reference (Markdown) from the schema; docs/operator.md embeds its output. */
import { rocketMQProxySchema } from '../src/api/schema.ts';
import { schemaPaths } from '../src/api/schema-kit.ts';

export function apiTable(root: 'spec' | 'status'): string {
  const rows = schemaPaths(rocketMQProxySchema.properties[root], root).map(({ path, schema }) => {
    const type =
      'x-kubernetes-int-or-string' in schema
        ? 'int or string'
        : 'enum' in schema && schema.enum
          ? schema.enum.join(' \\| ')
          : 'type' in schema
            ? schema.type
            : '';
    const def =
      'default' in schema && schema.default !== undefined && typeof schema.default !== 'object'
        ? `\`${String(schema.default)}\``
        : '';
    const description = 'description' in schema ? schema.description.replace(/\|/g, '\\|') : '';
    return `| \`${path}\` | ${type} | ${def} | ${description} |`;
  });
  return ['| Field | Type | Default | What it does |', '|---|---|---|---|', ...rows].join('\n');
}

if (import.meta.main) process.stdout.write(`${apiTable((process.argv[2] as 'spec' | 'status') ?? 'spec')}\n`);
