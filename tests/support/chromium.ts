/*
 * Debian's Chromium (apt-get install chromium), headless, driven by playwright-core with a fresh
 * profile: no browser is downloaded, nothing of the machine's own profile is used, and the browser
 * makes no connection of its own (updates, sync, QUIC probes) besides the page under test.
 */
import {existsSync} from "node:fs";
import {chromium, type BrowserContext} from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

const flags = [
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
];

/** Launches the browser with `profileDir` (a fresh, empty directory) as its user data dir. */
export async function launchChromium(profileDir: string): Promise<BrowserContext> {
	if (!existsSync(chromiumPath))
		throw new Error(
			`${chromiumPath} is missing: install Debian's Chromium (apt-get install -y chromium; .ci/run does)`,
		);
	// headless: true makes playwright pass --headless; launchPersistentContext passes --user-data-dir.
	return chromium.launchPersistentContext(profileDir, {
		executablePath: chromiumPath,
		headless: true,
		args: flags,
		viewport: {width: 1100, height: 1000},
	});
}
