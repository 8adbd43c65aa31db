/**
 * The message queues a route shows to clients, computed as the Java proxy does
 * so clients see the same layout through either proxy: per broker name and per replica id, queue ids
 * numbered from 0 across READ, then WRITE, then READ_WRITE, then NONE queues.
 */
import type { TopicRoute } from '../remoting/requests/route.ts';
import { isReadable, isWritable } from './queue-views.ts';

export type QueuePermission = 'NONE' | 'READ' | 'WRITE' | 'READ_WRITE';

export interface PublicQueue {
  readonly brokerName: string;
  /** 0 for the master, ≥ 1 for replicas. */
  readonly brokerId: number;
  readonly queueId: number;
  readonly permission: QueuePermission;
}

export function publicQueues(route: TopicRoute): PublicQueue[] {
  const brokers = new Map(route.brokerDatas.map((broker) => [broker.brokerName, broker]));
  const queues: PublicQueue[] = [];
  for (const data of route.queueDatas) {
    const broker = brokers.get(data.brokerName);
    // The Java proxy stops at the first queue data without broker data (a `break`); keep that.
    if (broker === undefined) break;
    const counts = permissionCounts(data.perm, data.readQueueNums, data.writeQueueNums);
    const brokerIds = [...broker.brokerAddrs.keys()].sort((a, b) => a - b);
    for (const brokerId of brokerIds) {
      let queueId = 0;
      const emit = (count: number, permission: QueuePermission): void => {
        for (let i = 0; i < count; i++) {
          queues.push({ brokerName: data.brokerName, brokerId, queueId: queueId++, permission });
        }
      };
      emit(counts.read, 'READ');
      emit(counts.write, 'WRITE');
      emit(counts.readWrite, 'READ_WRITE');
      emit(counts.none, 'NONE');
    }
  }
  return queues;
}

interface PermissionCounts {
  read: number;
  write: number;
  readWrite: number;
  none: number;
}

export function permissionCounts(
  perm: number,
  readQueueNums: number,
  writeQueueNums: number,
): PermissionCounts {
  const readable = isReadable(perm);
  const writable = isWritable(perm);
  if (readable && writable) {
    const readWrite = Math.min(readQueueNums, writeQueueNums);
    return { read: readQueueNums - readWrite, write: writeQueueNums - readWrite, readWrite, none: 0 };
  }
  if (writable) return { read: 0, write: writeQueueNums, readWrite: 0, none: 0 };
  if (readable) return { read: readQueueNums, write: 0, readWrite: 0, none: 0 };
  return { read: 0, write: 0, readWrite: 0, none: Math.max(1, Math.max(readQueueNums, writeQueueNums)) };
}
