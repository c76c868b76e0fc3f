// log_debug: placeholder until the module lands.
import { defineModule } from "../../src/module.ts";

export default defineModule({ name: "log_debug" });
