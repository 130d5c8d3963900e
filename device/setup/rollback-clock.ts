/*
 * The module mapped as "setup/rollback-clock" (manifest.json): the Moddable runtime calls the
 * default export of every "setup/" module at start, before main (device/rollback-clock.ts says
 * why the rollback clock starts there). A re-export by bare specifier, as device/platforms/lin.ts.
 */
export {default} from "device/rollback-clock";
