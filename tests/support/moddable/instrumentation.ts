/*
 * Stand-in of Moddable's "instrumentation" as a release build has it: map() gives indexes, get()
 * returns undefined (nothing is measured). Tests of the memory meter set `instrumentationValues`.
 */
import {sharedState} from "./stand-in-state";

export const instrumentationValues = sharedState("instrumentation", () => new Map<string, number>());
const names = ["XS Slot Heap Used", "XS Chunk Heap Used", "XS Stack Used"];

export default class Instrumentation {
	static map(name: string): number | undefined {
		const index = names.indexOf(name);
		return index < 0 ? undefined : index;
	}

	static get(what: number | undefined): number | undefined {
		return what === undefined ? undefined : instrumentationValues.get(names[what]);
	}

	static name(what: number | undefined): string | undefined {
		return what === undefined ? undefined : names[what];
	}
}
