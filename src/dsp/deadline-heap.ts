// A min-heap of deadlines (performance.now() ms) with O(log n) removal: the pool keeps every
// request, connect and late-response deadline in one, served by a single timer.
/** Min-heap on deadlineAt; entries remember their index so they can be removed in O(log n). */
export class DeadlineHeap<T extends { deadlineAt: number; heapIndex: number }> {
  private readonly items: T[] = [];

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.siftUp(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    const index = item.heapIndex;
    if (index < 0) return;
    item.heapIndex = -1;
    const last = this.items.pop()!;
    if (last === item) return;
    this.items[index] = last;
    last.heapIndex = index;
    this.siftDown(index);
    this.siftUp(last.heapIndex);
  }

  private siftUp(index: number): void {
    const items = this.items;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (items[parent]!.deadlineAt <= items[index]!.deadlineAt) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * index + 1;
      let least = index;
      if (left < items.length && items[left]!.deadlineAt < items[least]!.deadlineAt) least = left;
      if (left + 1 < items.length && items[left + 1]!.deadlineAt < items[least]!.deadlineAt) least = left + 1;
      if (least === index) return;
      this.swap(index, least);
      index = least;
    }
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const itemA = items[a]!;
    const itemB = items[b]!;
    items[a] = itemB;
    items[b] = itemA;
    itemA.heapIndex = b;
    itemB.heapIndex = a;
  }
}
