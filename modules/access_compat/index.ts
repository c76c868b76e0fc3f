// access_compat: placeholder until the module lands.
import { defineModule } from "../../src/module.ts";

export default defineModule({ name: "access_compat" });
