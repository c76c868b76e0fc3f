// remoteip: placeholder until the module lands.
import { defineModule } from "../../src/module.ts";

export default defineModule({ name: "remoteip" });
