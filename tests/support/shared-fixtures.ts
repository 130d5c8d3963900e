/*
 * The cross-check lane: the only module that names the folder beside the repository (../shared).
 * It holds images built by esptool and by ESP-IDF, and the FAQ text the node model was written from.
 * Everything else in the repository works without it. When the folder is absent the cross-check
 * tests are skipped with the reason printed; RMX_REQUIRE_SHARED_FIXTURES=1 (set by .ci/run) turns
 * that skip into a failure, so CI never skips them silently.
 */
import {existsSync, readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";

/** ../shared beside the repository; RMX_SHARED_DIR names it elsewhere (e.g. from a git worktree). */
const SHARED = process.env.RMX_SHARED_DIR
	? process.env.RMX_SHARED_DIR.replace(/\/?$/, "/")
	: fileURLToPath(new URL("../../../shared/", import.meta.url));
const IMAGES = SHARED + "fixtures/images/";

export const sharedFixturesPresent = existsSync(IMAGES + "fixtures.json");
export const sharedFixturesRequired = process.env.RMX_REQUIRE_SHARED_FIXTURES === "1";
/** Why the cross-check tests cannot run here. */
export const SKIP_REASON =
	`cross-check fixtures not found at ${IMAGES} (a clone without ../shared; ` +
	"RMX_SHARED_DIR names the folder when it is elsewhere)";

let noted = false;

/**
 * Call first in a test (or a `before`) that reads ../shared: skips it, with the reason, when the
 * folder is absent, or fails it when RMX_REQUIRE_SHARED_FIXTURES=1.
 */
export function requireSharedFixtures(context: Mocha.Context): void {
	if (sharedFixturesPresent) return;
	if (sharedFixturesRequired) throw new Error(`RMX_REQUIRE_SHARED_FIXTURES=1 but ${SKIP_REASON}`);
	if (!noted) {
		noted = true;
		process.stderr.write(
			`note: skipping the cross-check tests: ${SKIP_REASON}; RMX_REQUIRE_SHARED_FIXTURES=1 makes this a failure\n`,
		);
	}
	context.skip();
}

/** Absolute path of a file under ../shared/fixtures/images/, e.g. "real/esp32-hello_world.bin". */
export function sharedImagePath(relative: string): string {
	return IMAGES + relative;
}

export interface SharedImageFacts {
	path: string;
	kind: "real" | "synthetic";
	[key: string]: unknown;
}

/** The entries of ../shared/fixtures/images/fixtures.json (empty when the folder is absent). */
export function sharedImageFacts(): SharedImageFacts[] {
	if (!sharedFixturesPresent) return [];
	return (JSON.parse(readFileSync(IMAGES + "fixtures.json", "utf8")) as {images: SharedImageFacts[]}).images;
}

/** The text of the RainMaker FAQ page on user-approval OTA, as stored in ../shared/seed. */
export function sharedSeedText(): string {
	return readFileSync(SHARED + "seed/000_aacea1d562dd86a9.txt", "utf8");
}
