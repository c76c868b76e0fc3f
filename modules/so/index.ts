// so: LoadModule enables a bundled module (mosaic is one binary; the path is only checked for form).
import { defineModule } from "../../src/module.ts";

export default defineModule({
  name: "so",
  description: "LoadModule: enables modules bundled in the binary",
  directives: [
    {
      name: "LoadModule",
      args: [2, 2],
      contexts: ["server"],
      help: "a module name and the name of a shared object file to load it from",
      apply() {
        // Handled while reading the config (the preprocessor enables the module for <IfModule>).
      },
    },
    {
      name: "LoadFile",
      args: [1, Infinity],
      contexts: ["server"],
      help: "shared object file or library to load into the server at runtime",
      apply({ warn, args }) {
        warn(`LoadFile ${args.join(" ")}: mosaic loads no shared objects; ignored`);
      },
    },
  ],
});
