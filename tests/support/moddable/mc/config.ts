/*
 * Stand-in of "mc/config" (the manifest's "config" with the mcconfig command-line overrides).
 * Moddable freezes it; tests fill this object before they import main.ts. Command-line values are
 * strings on the device, so tests may use strings too.
 */
import {sharedState} from "../stand-in-state";
const config = sharedState("config", (): {[key: string]: unknown} => ({file: {root: "/tmp/"}}));

export default config;
