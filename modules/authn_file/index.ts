// authn_file: placeholder until the module lands.
import { defineModule } from "../../src/module.ts";

export default defineModule({ name: "authn_file" });
