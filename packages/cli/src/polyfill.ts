/**
 * `Promise.withResolvers` for Node 20 (it arrived in Node 22). libp2p, yamux, @libp2p/utils and
 * their queues call it; without it every inbound connection fails during encryption and the
 * dialer only sees ECONNRESET. Import this module before anything that loads libp2p (ES modules
 * evaluate their imports in order, so `import './polyfill.js'` as the first import is enough).
 * Idempotent, no dependencies.
 */

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    // As specified: `this` is the constructor (subclasses get their own kind of promise).
    value: function withResolvers<T>(this: unknown): Resolvers<T> {
      const C = (typeof this === 'function' ? this : Promise) as PromiseConstructor;
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new C<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

export {};
