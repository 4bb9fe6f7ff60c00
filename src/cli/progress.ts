// Progress on stderr: a redrawn bar when stderr is a terminal, plain lines otherwise
// (logs, CI, pipes). log() prints a line without tearing the bar. Plain lines count finished
// items ("[3/8] name" when the third is done), so parallel workers never repeat a number and
// the last line reads n/n.
// File names and messages are made printable (print.ts) before they reach the terminal.
import { printable } from './print';
export class Progress {
  private done = 0;
  private current = '';
  private readonly tty: boolean;

  constructor(
    private readonly total: number,
    private readonly enabled: boolean,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  start(item: string): void {
    this.current = printable(item);
    if (this.enabled && this.tty) this.draw();
  }

  /** One item finished (`item`: its name, when items finish out of order). */
  tick(item = this.current): void {
    this.done++;
    if (!this.enabled) return;
    if (this.tty) this.draw();
    else this.out.write(`[${this.done}/${this.total}] ${printable(item)}\n`);
  }

  /** Writes a line to `stream` (stdout by default), keeping the bar at the bottom. */
  log(line: string, stream: NodeJS.WriteStream = process.stdout): void {
    if (this.enabled && this.tty) this.out.write('\r\x1b[K');
    stream.write(printable(line) + '\n');
    if (this.enabled && this.tty && this.done < this.total) this.draw();
  }

  /** Jumps to `done` (runs that finish items in batches); without a terminal, a line every 10%. */
  set(done: number, note = ''): void {
    const before = this.done;
    this.done = done;
    this.current = printable(note);
    if (!this.enabled) return;
    if (this.tty) this.draw();
    else if (Math.floor((10 * done) / Math.max(this.total, 1)) > Math.floor((10 * before) / Math.max(this.total, 1))) {
      this.out.write(`[${done}/${this.total}]${note ? ` ${printable(note)}` : ''}\n`);
    }
  }

  end(): void {
    if (this.enabled && this.tty) this.out.write('\r\x1b[K');
  }

  private draw(): void {
    const width = 24;
    const filled = Math.round((this.done / Math.max(this.total, 1)) * width);
    const cols = this.out.columns || 80;
    const head = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} `;
    // Keep to one line: a wrapped bar cannot be redrawn with \r.
    const room = cols - head.length - 1;
    const name = this.current.length <= room ? this.current : room > 8 ? '…' + this.current.slice(-(room - 1)) : '';
    this.out.write('\r\x1b[K' + head + name);
  }
}
