/*
 * Command-line options of the simulated node (`rainmaker-ota-xs node`). Bad options are a clear
 * error (OptionError), never a silent default.
 */
import {hostOtaOptions, OptionError, OTA_OPTION_TABLE, type OtaOptions, resolveOtaOptions} from "../../ota/options";
import type {TopicForm} from "../../rainmaker/topics";

export interface NodeOptions {
	/** Required unless the fctry partition holds claim data (then mqtts://<mqtt_host>:8883). */
	broker?: string;
	/** An NVS image (esp-rainmaker-cli claim) written into the fctry partition before the boot. */
	fctry?: string;
	ca?: string;
	cert?: string;
	key?: string;
	/** CA for HTTPS downloads (default: `ca`). */
	httpCa?: string;
	nodeId: string;
	flashDir: string;
	/** Firmware provisioned into an empty flash. */
	image?: string;
	topicForm: TopicForm;
	ota: Partial<OtaOptions>;
	/** Simulation: images of these versions never reach MQTT (a broken build, to see the rollback). */
	unreachableVersions: string[];
	/** Simulation: cut the power (SIGKILL) at the n-th flash erase or write of this boot (1 = the first). */
	powerCutAt?: number;
	/** Print a prompt and echo for a person at a terminal. */
	interactive: boolean;
}

/** The OTA flags, from the option table (ota/options.ts). */
function otaUsage(): string {
	const lines: string[] = [];
	for (const spec of OTA_OPTION_TABLE) {
		const fallback = spec.hostDefault ?? spec.default;
		// A switch that is on by default is listed as its --no- form, which turns it off.
		if (spec.type === "boolean" && fallback === true)
			lines.push(`  ${`--no-${spec.flag}`.padEnd(28)}off: ${spec.help} (on by default)`);
		else if (spec.type === "boolean") lines.push(`  ${`--${spec.flag}`.padEnd(28)}${spec.help} (off by default)`);
		else if (spec.type === "string")
			lines.push(`  ${`--${spec.flag} <text>`.padEnd(28)}${spec.help} (default ${String(fallback)})`);
		else
			lines.push(
				`  ${`--${spec.flag} <n>`.padEnd(28)}${spec.help} (default ${String(fallback)}, ${spec.min}..${spec.max})`,
			);
	}
	return lines.join("\n");
}

export const NODE_USAGE = `Usage: rainmaker-ota-xs node --broker <url> | --fctry <nvs.bin> [options]
  --broker <url>              MQTT broker, mqtt://host:port or mqtts://host:port (default with claim
                              data in fctry: mqtts://<mqtt_host>:8883)
  --fctry <nvs.bin>           provision the fctry partition with a claimed node's NVS image (node_id,
                              mqtt_host, client_cert, client_key in rmaker_creds); they then serve as
                              node id, broker host, --cert and --key
  --ca <file> --cert <file> --key <file>
                              TLS: CA of the broker, the node's certificate and key (PEM)
  --http-ca <file>            CA for HTTPS firmware downloads (default: --ca)
  --node-id <id>              node id = MQTT client id (default rmx-sim-node)
  --flash-dir <dir>           flash file, eFuses and NVS; state survives restarts (default .sim/<node-id>)
  --image <file>              firmware provisioned into an empty flash (ota_0)
  --topic-form plain|basic-ingest   publish topics (default plain)
${otaUsage()}
  --unreachable-version <v>   simulation: an image of version v never reaches MQTT (repeatable)
  --power-cut-at <n>          simulation: cut the power at the n-th flash erase/write of this boot`;

const numeric: {[flag: string]: keyof OtaOptions} = {};
const texts: {[flag: string]: keyof OtaOptions} = {};
const switches: {[flag: string]: [keyof OtaOptions, boolean]} = {};
for (const spec of OTA_OPTION_TABLE) {
	if (spec.type === "integer") numeric[`--${spec.flag}`] = spec.name;
	else if (spec.type === "string") texts[`--${spec.flag}`] = spec.name;
	else {
		switches[`--${spec.flag}`] = [spec.name, true];
		switches[`--no-${spec.flag}`] = [spec.name, false];
	}
}

export function parseNodeOptions(argv: readonly string[], interactive: boolean): NodeOptions {
	const options: Partial<NodeOptions> & {ota: Partial<OtaOptions>; unreachableVersions: string[]} = {
		ota: {},
		unreachableVersions: [],
		topicForm: "plain",
		interactive,
	};
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		const value = () => {
			const next = argv[++i];
			if (next === undefined || next.startsWith("--")) throw new OptionError(`${flag} needs a value`);
			return next;
		};
		if (flag in numeric) {
			const text = value();
			const number = Number(text);
			if (text.trim() === "" || !Number.isFinite(number))
				throw new OptionError(`${flag} needs a number, got ${JSON.stringify(text)}`);
			(options.ota as {[key: string]: unknown})[numeric[flag]] = number;
		} else if (flag in texts) (options.ota as {[key: string]: unknown})[texts[flag]] = value();
		else if (flag in switches) (options.ota as {[key: string]: unknown})[switches[flag][0]] = switches[flag][1];
		else
			switch (flag) {
				case "--broker":
					options.broker = value();
					break;
				case "--fctry":
					options.fctry = value();
					break;
				case "--ca":
					options.ca = value();
					break;
				case "--cert":
					options.cert = value();
					break;
				case "--key":
					options.key = value();
					break;
				case "--http-ca":
					options.httpCa = value();
					break;
				case "--node-id":
					options.nodeId = value();
					break;
				case "--flash-dir":
					options.flashDir = value();
					break;
				case "--image":
					options.image = value();
					break;
				case "--unreachable-version":
					options.unreachableVersions.push(value());
					break;
				case "--power-cut-at": {
					const text = value();
					if (!/^[1-9]\d*$/.test(text))
						throw new OptionError(
							`--power-cut-at needs a positive whole number, got ${JSON.stringify(text)}`,
						);
					options.powerCutAt = Number(text);
					break;
				}
				case "--topic-form": {
					const form = value();
					if (form !== "plain" && form !== "basic-ingest")
						throw new OptionError(
							`--topic-form must be plain or basic-ingest, got ${JSON.stringify(form)}`,
						);
					options.topicForm = form;
					break;
				}
				default:
					throw new OptionError(`unknown option ${JSON.stringify(flag)}`);
			}
	}
	if (!options.broker && !options.fctry)
		throw new OptionError("--broker <url> is required (or --fctry <nvs.bin> with claim data)");
	if (options.broker !== undefined && !/^mqtts?:\/\//.test(options.broker))
		throw new OptionError(`--broker must be an mqtt:// or mqtts:// URL, got ${JSON.stringify(options.broker)}`);
	if ((options.cert === undefined) !== (options.key === undefined))
		throw new OptionError("--cert and --key go together");
	// The simulator's defaults (hostOtaOptions: plain HTTP allowed, as the local cloud serves it) under the flags.
	for (const spec of OTA_OPTION_TABLE) {
		if (spec.hostDefault !== undefined && options.ota[spec.name] === undefined)
			(options.ota as {[key: string]: unknown})[spec.name] = hostOtaOptions[spec.name];
	}
	resolveOtaOptions(options.ota); // a value out of range is refused now, before anything boots
	options.nodeId ??= "rmx-sim-node";
	options.flashDir ??= `.sim/${options.nodeId}`;
	return options as NodeOptions;
}
