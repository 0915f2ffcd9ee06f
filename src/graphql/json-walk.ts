/**
 * JSON.stringify's text of an answer, measured or written a step at a time: a walk with its own
 * stack, so it stops after a bounded amount of work and resumes where it stopped. An answer of
 * tens of thousands of fields is measured and written in slices with turns of the event loop in
 * between (response-size.ts), and no recursion is as deep as the answer.
 */

/** Printable ASCII without `"` and `\`: such a string is its own JSON text, between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function stringBytes(value: string): number {
  return PLAIN.test(value) ? value.length + 2 : Buffer.byteLength(JSON.stringify(value));
}

/** A value as JSON.stringify sees it: what its `toJSON` gives, if it has one. */
function jsonOf(value: unknown, key: string): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  return value;
}

/** Values JSON.stringify leaves out of an object (and writes as null in an array). */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function leafText(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return 'null';
}

type Frame =
  | { array: readonly unknown[]; index: number }
  | { object: Record<string, unknown>; keys: string[]; index: number; first: boolean };

/**
 * The walk both share: `value` and `end` are told each piece of the text in order (a member
 * name comes with the member, in `value`'s `prefix`); `step` does at most `budget` of them.
 */
abstract class JsonWalk {
  readonly #stack: Frame[] = [];
  #root: unknown;
  #started = false;

  constructor(value: unknown) {
    this.#root = value;
  }

  /** A value's text starts: `prefix` (`,` and a member name, or '') and then the value. */
  protected abstract value(prefix: string, item: unknown): void;
  /** A container's text ends (`]` or `}`). */
  protected abstract end(text: string): void;
  /** Whether the walk stops for now: a piece is full, or the size is known to be over. */
  protected paused(): boolean {
    return false;
  }

  /** Whether the walk is over before its end (the size is known to be over). */
  protected over(): boolean {
    return false;
  }

  /** Opens `item` as JSON sees it: a container is pushed, a leaf is told as it is. */
  #enter(prefix: string, item: unknown): void {
    this.value(prefix, item);
    if (item === null || typeof item !== 'object') return;
    if (Array.isArray(item)) this.#stack.push({ array: item, index: 0 });
    else this.#stack.push({ object: item as Record<string, unknown>, keys: Object.keys(item), index: 0, first: true });
  }

  /** Walks at most `budget` values; true once the walk is over. */
  step(budget: number): boolean {
    if (!this.#started) {
      this.#started = true;
      this.#enter('', jsonOf(this.#root, ''));
      this.#root = undefined;
    }
    const stack = this.#stack;
    for (let done = 0; done < budget && stack.length > 0 && !this.paused(); done++) {
      const frame = stack[stack.length - 1] as Frame;
      if ('array' in frame) {
        if (frame.index >= frame.array.length) {
          stack.pop();
          this.end(']');
          continue;
        }
        const index = frame.index++;
        this.#enter(index > 0 ? ',' : '', jsonOf(frame.array[index], String(index)));
        continue;
      }
      if (frame.index >= frame.keys.length) {
        stack.pop();
        this.end('}');
        continue;
      }
      const name = frame.keys[frame.index++] as string;
      const member = jsonOf(frame.object[name], name);
      if (omitted(member)) continue;
      const prefix = `${frame.first ? '' : ','}${PLAIN.test(name) ? `"${name}"` : JSON.stringify(name)}:`;
      frame.first = false;
      this.#enter(prefix, member);
    }
    return stack.length === 0 || this.over();
  }
}

/** The UTF-8 length of the text, counted without building it; stops once over `limit`. */
export class JsonSize extends JsonWalk {
  readonly #limit: number;
  total = 0;

  constructor(value: unknown, limit: number) {
    super(value);
    this.#limit = limit;
  }

  protected value(prefix: string, item: unknown): void {
    // A prefix is ASCII unless a member name is not: names are short, their bytes are counted exactly.
    this.total += PLAIN.test(prefix) ? prefix.length : Buffer.byteLength(prefix);
    if (typeof item === 'string') {
      this.total += item.length + 2;
      // Only a string that might still fit is scanned for the bytes its escapes and UTF-8 add.
      if (this.total <= this.#limit) this.total += stringBytes(item) - item.length - 2;
    } else if (item === null || typeof item !== 'object') {
      this.total += omitted(item) ? 4 : leafText(item).length;
    } else {
      this.total += 1;
    }
  }

  protected end(): void {
    this.total += 1;
  }

  protected override paused(): boolean {
    return this.total > this.#limit;
  }

  protected override over(): boolean {
    return this.total > this.#limit;
  }
}

/** The text itself, in pieces of at least `chars` characters (the last one shorter). */
export class JsonText extends JsonWalk {
  #buffer = '';
  #chars = 0;

  protected override paused(): boolean {
    return this.#buffer.length >= this.#chars;
  }

  protected value(prefix: string, item: unknown): void {
    if (item === null || typeof item !== 'object') this.#buffer += prefix + (omitted(item) ? 'null' : leafText(item));
    else this.#buffer += prefix + (Array.isArray(item) ? '[' : '{');
  }

  protected end(text: string): void {
    this.#buffer += text;
  }

  /** The next piece, or undefined when the text is all out. */
  piece(chars: number): string | undefined {
    this.#chars = chars;
    this.step(Number.POSITIVE_INFINITY);
    if (!this.#buffer) return undefined;
    const piece = this.#buffer;
    this.#buffer = '';
    return piece;
  }
}

/** The UTF-8 length of `JSON.stringify(value)`, or a number over `limit` as soon as it is known to be over. */
export function jsonBytes(value: unknown, limit: number): number {
  const size = new JsonSize(value, limit);
  size.step(Number.POSITIVE_INFINITY);
  return size.total;
}

/** The text of `JSON.stringify(value)` in pieces of about `chars` characters, made only as asked for. */
export function* jsonPieces(value: unknown, chars = 64 * 1024): Generator<string, void, undefined> {
  const text = new JsonText(value);
  for (let piece = text.piece(chars); piece !== undefined; piece = text.piece(chars)) yield piece;
}
