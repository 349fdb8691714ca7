// What tsinit tells the outside about the formation: a ready_file (for a
// Docker HEALTHCHECK's `test -f` or a Kubernetes exec probe) present exactly
// while every service is up, and READY=1 then STOPPING=1 to tsinit's own
// NOTIFY_SOCKET (podman --sdnotify=container, a systemd unit).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native';
import type { Logger } from '../core/log';
import { errnoMessage } from '../core/errno';

export interface AnnounceOptions {
  readyFile: string | null;
  /** tsinit's own NOTIFY_SOCKET, or null. */
  upstream: Buffer | null;
  log: Logger;
  services: number;
}

export class Announcer {
  private readonly o: AnnounceOptions;
  private up = false;
  private announced = false;

  constructor(o: AnnounceOptions) {
    this.o = o;
  }

  /** Whether every service is up now: acts on changes only; READY=1 upstream the first time. */
  set(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (!up) return this.removeReadyFile();
    const file = this.o.readyFile;
    if (file !== null) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, '');
      } catch (err) {
        this.o.log.warning(`cannot create ready_file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    this.o.log.event('info', 'services-ready', `all ${this.o.services} service(s) are ready`, { services: this.o.services });
    if (!this.announced) {
      this.announced = true;
      this.tell(`READY=1\nSTATUS=${this.o.services} service(s) ready`);
    }
  }

  /** The formation is stopping: no longer ready; STOPPING=1 upstream if READY=1 went there. */
  stopping(): void {
    this.removeReadyFile();
    this.up = false;
    if (this.announced) this.tell('STOPPING=1');
  }

  private removeReadyFile(): void {
    const file = this.o.readyFile;
    if (file === null) return;
    try {
      fs.unlinkSync(file);
    } catch {
      // Not there.
    }
  }

  private tell(msg: string): void {
    if (this.o.upstream === null) return;
    const r = native.notifySend(this.o.upstream, Buffer.from(msg));
    if (r < 0) this.o.log.warning(`cannot notify NOTIFY_SOCKET ${this.o.upstream.toString()}: ${errnoMessage(r)}`);
  }
}
