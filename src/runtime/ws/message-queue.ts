/**
 * A FIFO ring buffer that doubles when full. Unlike an array used with
 * `push`/`shift`, a queue that fills and empties over and over reuses its
 * storage instead of reallocating it.
 */
export class MessageQueue<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(8)
  #head = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  push(item: T): void {
    const items = this.#items
    if (this.#size === items.length) {
      // Copied oldest first, so the order survives the wrap-around.
      const grown = new Array<T | undefined>(items.length * 2)
      for (let i = 0; i < this.#size; i++) grown[i] = items[(this.#head + i) & (items.length - 1)]
      this.#items = grown
      this.#head = 0
    }
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item
    this.#size++
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const items = this.#items
    const item = items[this.#head]
    items[this.#head] = undefined
    this.#head = (this.#head + 1) & (items.length - 1)
    this.#size--
    return item
  }
}
