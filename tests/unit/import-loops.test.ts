/*
 * No import loop anywhere in the tree (docs/decisions.md §1.16): the firmware, the ESP-IDF stand-ins,
 * the host side, the benchmarks and the scripts; type-only imports count too.
 */
import assert from "node:assert/strict";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {findCycle, sources} from "../support/import-graph";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the import graph", () => {
	it("has no loop in rainmaker/, ota/, device/, idf/, host/, bench/, scripts/ and main.ts", () => {
		const files = ["rainmaker", "ota", "device", "idf", "host", "bench", "scripts"]
			.flatMap(dir => sources(join(ROOT, dir)))
			.concat(join(ROOT, "main.ts"));
		assert.ok(files.length > 100, `only ${files.length} files found`);
		const cycle = findCycle(files);
		assert.equal(cycle, undefined, `import loop: ${cycle?.join(" → ")}`);
	});
});
