// Compiles dist/mosaic: one executable with every module, the default config and pages embedded.
import path from "node:path";

const root = import.meta.dir;
const outfile = path.join(root, "dist", "mosaic");
const built = new Date().toISOString().slice(0, 19);
/** Worker entry points must be listed too, or `new Worker` cannot find them inside the binary. */
const extraEntrypoints = ["src/mpm/child.ts", "src/script/worker.ts"].filter((f) => Bun.file(path.join(root, f)).size > 0);

const proc = Bun.spawnSync(
  [
    process.execPath,
    "build",
    "--compile",
    path.join(root, "src/main.ts"),
    ...extraEntrypoints.map((f) => path.join(root, f)),
    "--outfile",
    outfile,
    "--define",
    `MOSAIC_BUILT=${JSON.stringify(built)}`,
  ],
  { stdout: "inherit", stderr: "inherit" },
);
if (proc.exitCode !== 0) process.exit(proc.exitCode ?? 1);
console.log(`built ${path.relative(process.cwd(), outfile)} (${built})`);
