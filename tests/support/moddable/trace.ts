/* What the device code printed with Moddable's global trace() (installed by moddable-loader.ts). */
import {sharedState} from "./stand-in-state";
export const traceLines = sharedState("traceLines", (): string[] => []);
