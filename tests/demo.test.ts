/* The main job as `npm start` runs it: the demo must complete the approval flow on its own. */
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {COMMAND} from "./support/command";

describe("npm start (the demo)", function () {
	this.timeout(120_000);

	it("runs cloud, node and approval client to a confirmed 2.0.0 and exits 0", async () => {
		const child = spawn(process.execPath, [COMMAND, "demo"], {
			stdio: ["ignore", "pipe", "pipe"],
		});
		let output = "";
		child.stdout.on("data", data => (output += data));
		child.stderr.on("data", data => (output += data));
		const code = await new Promise<number | null>(resolve => child.on("exit", resolve));
		assert.equal(code, 0, output);
		const order = [
			/\[demo\] update 2\.0\.0 available on demo-node, waiting for approval/,
			/\[demo\] the app switched demo-node's Switch on .*; the node reported it/,
			/\[app\] .*approved job job_\w+ \(firmware 2\.0\.0\)/,
			/\[node\] .*Rebooting into new firmware \(after 1 HTTPS attempt\)/,
			/\[node\] .*boot: running ota_1 \(rainmaker-ota-xs 2\.0\.0\), state pending-verify/,
			/\[app\] .*success: OTA Upgrade finished and verified successfully/,
			/\[demo\] done: demo-node runs firmware 2\.0\.0; job job_\w+ ended with success/,
			/\[demo\] the switch's Power after the update: on/,
		];
		const notes = output.split("\n").filter(line => line.includes("booting again"));
		assert.deepEqual(notes, ["[node] -- reset: booting again --"], "one reboot, one reset line");
		let at = 0;
		for (const pattern of order) {
			const match = pattern.exec(output.slice(at));
			assert.ok(match, `${pattern} after offset ${at} in:\n${output}`);
			at += match.index + match[0].length;
		}
	});
});
