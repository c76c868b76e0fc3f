// auth_basic: placeholder until the module lands.
import { defineModule } from "../../src/module.ts";

export default defineModule({ name: "auth_basic" });
