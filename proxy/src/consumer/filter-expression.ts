/**
 * The filter of a receive or a pull: TAG expressions (`*`, or tags joined by `||`) and SQL92. Tags
 * are checked here; SQL92 is checked by the broker, whose SUBSCRIPTION_PARSE_FAILED the consumer
 * services answer with IllegalFilterExpression.
 */
import { ProxyError } from '../core/errors.ts';
import type { ExpressionType } from '../remoting/requests/heartbeat.ts';

/** A filter as the client sent it (TAG for any type but SQL92). */
export interface FilterInput {
  readonly type: ExpressionType;
  readonly expression: string;
}

export interface ConsumerFilter {
  readonly type: ExpressionType;
  /** What the broker gets: `*`, the tag expression, or the SQL text. */
  readonly expression: string;
  /** TAG filters naming tags: the set a delivered message's tag must be in (undefined = all). */
  readonly tags: ReadonlySet<string> | undefined;
}

export const MATCH_ALL: ConsumerFilter = { type: 'TAG', expression: '*', tags: undefined };

/**
 * The filter to apply; none at all matches everything. No length limit: the broker accepts long tag
 * expressions (10,240 characters work) and so does the Java proxy; the gRPC message cap bounds it.
 */
export function parseFilter(filter: FilterInput | undefined): ConsumerFilter {
  const text = filter?.expression ?? '';
  if (filter?.type === 'SQL92') {
    if (text.trim() === '') {
      throw new ProxyError('IllegalFilterExpression', "Expression can't be null! SQL92");
    }
    return { type: 'SQL92', expression: text, tags: undefined };
  }
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '*') return MATCH_ALL;
  const tags = new Set(
    trimmed
      .split('||')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== ''),
  );
  if (tags.size === 0) {
    throw new ProxyError(
      'IllegalFilterExpression',
      `subString split error: tag expression ${JSON.stringify(text)} names no tag`,
    );
  }
  return { type: 'TAG', expression: trimmed, tags };
}

/** Brokers filter tags by hash code only, so collisions must be dropped on the way out. */
export function tagMatches(filter: ConsumerFilter, tag: string | undefined): boolean {
  if (filter.tags === undefined) return true;
  return tag !== undefined && filter.tags.has(tag);
}
