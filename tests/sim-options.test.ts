import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {OptionError} from "../ota/options";
import {parseNodeOptions} from "../host/sim/node-options";
import {COMMAND} from "./support/command";

describe("simulated node options", () => {
	it("maps the flags to the firmware's OTA options", () => {
		const options = parseNodeOptions(
			[
				"--broker",
				"mqtts://127.0.0.1:8883",
				"--node-id",
				"n1",
				"--fetch-delay",
				"2",
				"--no-autofetch",
				"--autofetch-period",
				"24",
				"--skip-version-check",
				"--topic-form",
				"basic-ingest",
				"--unreachable-version",
				"2.0.0",
			],
			false,
		);
		assert.equal(options.broker, "mqtts://127.0.0.1:8883");
		assert.equal(options.flashDir, ".sim/n1");
		assert.equal(options.topicForm, "basic-ingest");
		assert.deepEqual(options.unreachableVersions, ["2.0.0"]);
		assert.deepEqual(options.ota, {
			startupFetchDelaySeconds: 2,
			autofetch: false,
			autofetchPeriodHours: 24,
			skipVersionCheck: true,
			allowHttp: true,
		});
	});

	it("takes the simulator's defaults from the option table: plain HTTP allowed unless --no-allow-http", () => {
		assert.equal(parseNodeOptions(["--broker", "mqtt://x"], false).ota.allowHttp, true);
		assert.equal(parseNodeOptions(["--broker", "mqtt://x", "--no-allow-http"], false).ota.allowHttp, false);
		assert.equal(parseNodeOptions(["--broker", "mqtt://x", "--min-rate", "2048"], false).ota.minDownloadRate, 2048);
	});

	const refused: [string[], RegExp][] = [
		[[], /--broker <url> is required/],
		[["--broker", "http://x"], /--broker must be an mqtt:\/\/ or mqtts:\/\/ URL/],
		[["--broker", "mqtt://x", "--fetch-delay"], /--fetch-delay needs a value/],
		[["--broker", "mqtt://x", "--fetch-delay", "soon"], /--fetch-delay needs a number, got "soon"/],
		[
			["--broker", "mqtt://x", "--autofetch-period", "169"],
			/autofetchPeriodHours must be within 0\.\.168, got 169/,
		],
		[["--broker", "mqtt://x", "--max-attempts", "0"], /maxAttempts must be within 1\.\.10/],
		[["--broker", "mqtt://x", "--topic-form", "fancy"], /--topic-form must be plain or basic-ingest/],
		[["--broker", "mqtt://x", "--cert", "c.pem"], /--cert and --key go together/],
		[["--broker", "mqtt://x", "--power-cut-at", "-1"], /--power-cut-at needs a positive whole number/],
		[["--broker", "mqtt://x", "--frobnicate"], /unknown option "--frobnicate"/],
	];
	for (const [argv, message] of refused) {
		it(`refuses ${JSON.stringify(argv)}`, () => {
			assert.throws(
				() => parseNodeOptions(argv, false),
				(error: unknown) => error instanceof OptionError && message.test(error.message),
			);
		});
	}

	it("the node command exits 2 with one line: the reason and where the options are listed", () => {
		const run = spawnSync(
			process.execPath,
			[COMMAND, "node", "--broker", "mqtt://127.0.0.1:1", "--rollback-wait", "9999"],
			{encoding: "utf8"},
		);
		assert.equal(run.status, 2);
		assert.equal(
			run.stderr,
			"rainmaker-ota-xs node: OTA option rollbackWaitSeconds must be within 1..600, got 9999 (rainmaker-ota-xs node --help lists the options)\n",
		);
	});
});
