/**
 * Calls a rule makes to its node while it runs: the twin of a partner's item, a local item, the
 * node's own tracker's REST API (`httpClient`). A rule runs synchronously in its worker thread,
 * and what it asks for is a database query or an HTTP call on the main thread. So the thread
 * posts the call on a channel of its own and blocks (`Atomics.wait` on a shared word) until the
 * main thread has posted the answer and set the word, or the run's deadline passes; it then takes
 * the answer off its port synchronously (`receiveMessageOnPort`).
 *
 * A thread's channel: idle → waiting (one call out, the thread blocked) → idle. Every call carries
 * its run's task id and a number of its own; an answer that comes after its call gave up (the
 * deadline passed) is dropped when the next call drains the port, so no run sees another's.
 * The main thread answers a call only while that task is the thread's current one.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a rule may ask of its node. `deadline`: when the run's time is up (ms since the epoch). */
export type HostCall =
  | { kind: 'twin'; remoteId: string }
  | { kind: 'item'; remoteId: string }
  | { kind: 'http'; method: HttpMethod; path: string; body?: unknown }
  | { kind: 'itemTypes'; project: string }
  | { kind: 'user'; ref: string };

/** `timedOut`: the run's time was up before the node answered. */
export type HostCallAnswer = { ok: true; value: unknown } | { ok: false; message: string; timedOut?: true };

/**
 * How the node answers a run's calls (main thread): plain data, or a rejection whose message the
 * rule gets as its error. `deadline` is when the run's time is up.
 */
export type HostCalls = (call: HostCall, deadline: number) => Promise<unknown>;

/** A thread's end of its channel: the port and the word it waits on. */
export interface CallChannel {
  port: MessagePort;
  signal: SharedArrayBuffer;
}

export interface CallRequest {
  task: number;
  seq: number;
  deadline: number;
  call: HostCall;
}

export interface CallReply {
  task: number;
  seq: number;
  answer: HostCallAnswer;
}

/** The thread's caller: blocks until the answer, or until `deadline`. */
export function blockingCaller(channel: CallChannel): (task: number, call: HostCall, deadline: number) => HostCallAnswer {
  const word = new Int32Array(channel.signal);
  let seq = 0;
  return (task, call, deadline) => {
    seq += 1;
    Atomics.store(word, 0, 0);
    channel.port.postMessage({ task, seq, deadline, call } satisfies CallRequest);
    // The main thread posts the answer before it sets the word: once the word is set, the answer is
    // on the port. Drained before each wait, so that an answer posted just before is never missed.
    for (;;) {
      for (let got = receiveMessageOnPort(channel.port); got; got = receiveMessageOnPort(channel.port)) {
        const reply = got.message as CallReply;
        if (reply.task === task && reply.seq === seq) return reply.answer;
      }
      const left = deadline - Date.now();
      if (left <= 0) return { ok: false, message: 'the node did not answer within the rule’s time limit', timedOut: true };
      Atomics.wait(word, 0, 0, left);
      Atomics.store(word, 0, 0);
    }
  };
}

/** The main thread's end: answers a request on `port` and wakes the thread. */
export function reply(port: MessagePort, signal: SharedArrayBuffer, request: CallRequest, answer: HostCallAnswer): void {
  port.postMessage({ task: request.task, seq: request.seq, answer } satisfies CallReply);
  const word = new Int32Array(signal);
  Atomics.store(word, 0, 1);
  Atomics.notify(word, 0);
}
