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

/** Longest filter accepted (the broker keeps subscriptions in memory per group). */
export const MAX_FILTER_LENGTH = 4096;

/** The filter to apply; none at all matches everything. */
export function parseFilter(filter: FilterInput | undefined): ConsumerFilter {
  const text = filter?.expression ?? '';
  if (text.length > MAX_FILTER_LENGTH) {
    throw new ProxyError(
      'IllegalFilterExpression',
      `filter expression is ${text.length} characters long, at most ${MAX_FILTER_LENGTH} allowed`,
    );
  }
  if (filter?.type === 'SQL92') {
    if (text.trim() === '') {
      throw new ProxyError('IllegalFilterExpression', 'SQL92 filter expression is empty');
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
    throw new ProxyError('IllegalFilterExpression', `tag expression ${JSON.stringify(text)} names no tag`);
  }
  return { type: 'TAG', expression: trimmed, tags };
}

/** Brokers filter tags by hash code only, so collisions must be dropped on the way out. */
export function tagMatches(filter: ConsumerFilter, tag: string | undefined): boolean {
  if (filter.tags === undefined) return true;
  return tag !== undefined && filter.tags.has(tag);
}
