// PidFile: written by the control process at start, read by `-k`, removed at shutdown (Apache's log.c).
import fs from "node:fs";
import path from "node:path";
import { logError } from "../log/error-log.ts";
import type { ServerRec } from "../server-rec.ts";

/** The configured PidFile, or Apache's default `logs/httpd.pid` under ServerRoot. */
export function pidFilePath(configured: string | undefined, serverRoot: string): { file: string; explicit: boolean } {
  return configured ? { file: configured, explicit: true } : { file: path.join(serverRoot, "logs", "httpd.pid"), explicit: false };
}

/**
 * Writes our pid (ap_log_pid). A leftover file gets AH00098; failing to write an explicitly
 * configured PidFile is fatal (AH00099/AH00100), while the default one is skipped when its directory
 * does not exist, so `mosaic` runs anywhere with the embedded config.
 */
export function writePidFile(file: string, explicit: boolean, main: ServerRec): string | undefined {
  if (!explicit && !fs.existsSync(path.dirname(file))) return undefined;
  if (fs.existsSync(file)) {
    logError(main, "warn", "core", `AH00098: pid file ${file} overwritten -- Unclean shutdown of previous mosaic run?`);
  }
  try {
    fs.writeFileSync(`${file}.new`, `${process.pid}\n`);
    fs.renameSync(`${file}.new`, file);
  } catch (e) {
    throw new Error(`AH00099: could not create ${file}.new: ${(e as Error).message}\nAH00100: mosaic: could not log pid to file ${file}`);
  }
  return file;
}

/** Removes the PID file at shutdown (AH00096, info), if it still holds our pid. */
export function removePidFile(file: string | undefined, main: ServerRec): void {
  if (!file) return;
  try {
    if (readPid(file) !== process.pid) return;
    fs.unlinkSync(file);
    logError(main, "info", "core", `AH00096: removed PID file ${file} (pid=${process.pid})`);
  } catch {
    // Already gone.
  }
}

/** The pid in a PID file; undefined when there is no file; throws when it is unreadable or corrupt. */
export function readPid(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`corrupt pid file ${file}`);
  return pid;
}

/** kill(pid, 0): is that process alive (and ours to signal)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
