/**
 * Lookups by key into one of a simulator's state arrays, as the tracker's own database answers
 * them (by index, not by reading every row: a linear scan made every request of a large
 * simulated tracker slower, and the benchmark's figures with it).
 *
 * The state stays plain arrays (it is seeded, saved to a file, and read by tests): the index
 * follows the array it was built for, takes in what was appended since, and is built again when
 * the array is replaced (the simulators remove elements by assigning a filtered copy). Keys of an
 * element must not change while it is in the array.
 */
export class ArrayIndex<T, K> {
  private array: readonly T[] | null = null;
  private indexed = 0;
  private readonly byKey = new Map<K, T[]>();

  constructor(private readonly keysOf: (element: T) => K[]) {}

  /** The elements of `array` under `key`, in array order. */
  all(array: readonly T[], key: K): readonly T[] {
    if (array !== this.array || this.indexed > array.length) {
      this.array = array;
      this.indexed = 0;
      this.byKey.clear();
    }
    for (; this.indexed < array.length; this.indexed += 1) {
      const element = array[this.indexed]!;
      for (const k of this.keysOf(element)) {
        const list = this.byKey.get(k);
        if (list) list.push(element);
        else this.byKey.set(k, [element]);
      }
    }
    return this.byKey.get(key) ?? [];
  }

  /** The first element of `array` under `key`. */
  first(array: readonly T[], key: K): T | undefined {
    return this.all(array, key)[0];
  }
}
