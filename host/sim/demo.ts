/*
 * `npm start` / `rainmaker-ota-xs demo`: the whole user-approval workflow on one machine. It starts
 * the local cloud, boots a simulated node with firmware 1.0.0, publishes 2.0.0 as an OTA job, and
 * once the node offers it (Info filled, `delayed` "Waiting for Approval") approves it through the
 * approval client, in the phone app's role. The node downloads, verifies and installs the image,
 * reboots through the simulated bootloader, confirms 2.0.0 on its first MQTT connection and
 * reports `success`. With --manual the approval is yours: in the web page the demo prints the
 * address of (docs/web-app.md), or at the node's console (`ota start`); the demo then keeps running
 * until Ctrl-C, so the page stays up.
 */
import {reportedPower} from "../../product/switch";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {createInterface, type Interface} from "node:readline";
import {type Cloud, startCloud} from "../cloud/cloud";
import {DEFAULT_USER} from "../cloud/defaults";
import {appCommand} from "../client/main";
import {buildAppImage} from "../tools/app-image";
import {webAssets} from "../web/server";
import {type SupervisedNode, superviseNode} from "./supervisor";

/** A signal ended the demo before its end. */
class DemoStopped extends Error {
	constructor() {
		super("stopped by a signal");
	}
}

export const DEMO_USAGE = `Usage: rainmaker-ota-xs demo [--manual] [--keep]
  --manual   approve yourself in the web page (its address is printed) or at the node's console
             (type 'ota start'), instead of the approval client; keeps running until Ctrl-C
  --keep     keep the cloud and the node running after the update (Ctrl-C ends)`;

export async function demoCommand(argv: readonly string[]): Promise<number> {
	if (argv.includes("--help") || argv.includes("-h")) {
		process.stdout.write(DEMO_USAGE + "\n");
		return 0;
	}
	const manual = argv.includes("--manual");
	const keep = argv.includes("--keep") || manual;
	const unknown = argv.filter(arg => arg !== "--manual" && arg !== "--keep");
	if (unknown.length > 0) {
		process.stderr.write(`rainmaker-ota-xs demo: unknown option ${unknown[0]}\n${DEMO_USAGE}\n`);
		return 2;
	}
	const say = (line: string) => process.stdout.write(line + "\n");
	// Ctrl-C (SIGINT, to the whole process group from a terminal) or SIGTERM at any moment: stop
	// waiting, end the node's boot process and the cloud, remove the temporary folder, exit
	// 130 / 143. After a finished update with --keep/--manual, Ctrl-C is the normal end (exit code
	// of the update).
	const stop = new AbortController();
	let stoppedBy: NodeJS.Signals | undefined;
	const onSignal = (signal: NodeJS.Signals) => {
		stoppedBy ??= signal;
		stop.abort();
	};
	process.on("SIGINT", onSignal);
	process.on("SIGTERM", onSignal);
	const stopped = new Promise<never>((_, reject) =>
		stop.signal.addEventListener("abort", () => reject(new DemoStopped())),
	);
	stopped.catch(() => {}); // only ever awaited through untilStopped
	const untilStopped = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, stopped]);

	const work = mkdtempSync(join(tmpdir(), "rmx-demo-"));
	let cloud: Cloud | undefined;
	let node: SupervisedNode | undefined;
	let input: Interface | undefined;
	let code = 1;
	try {
		const nodeId = "demo-node";
		const firstImage = join(work, "firmware-1.0.0.bin");
		writeFileSync(firstImage, buildAppImage({version: "1.0.0", payloadSize: 256 * 1024}));
		const newImage = buildAppImage({version: "2.0.0", payloadSize: 256 * 1024});

		// A person watching the page sees the download under way: about 4 s at a device's pace.
		const starting = startCloud({
			...(manual ? {downloadBytesPerSecond: 64 * 1024} : {}),
			log: line => say(`[cloud] ${line}`),
		});
		cloud = await untilStopped(starting).catch(async (error: unknown) => {
			// A signal during the start: the cloud still comes up; close it once it has.
			if (error instanceof DemoStopped) await starting.then(started => started.close()).catch(() => {});
			throw error;
		});
		const running = cloud;
		say(`[demo] local cloud: MQTT ${running.mqttUrl}, REST ${running.httpUrl}`);
		await untilStopped(
			webAssets().then(
				() =>
					say(
						`[demo] web page: ${new URL("/", running.httpUrl)} (sign in as ${DEFAULT_USER.userName}, password ${DEFAULT_USER.password})`,
					),
				(error: Error) =>
					say(
						`[demo] the web page is unavailable (${error.message}); the node's console still takes 'ota start'`,
					),
			),
		);
		const image = await untilStopped(running.addImage(newImage, "firmware-2.0.0"));
		const job = await untilStopped(
			running.createJob({imageId: image.id, nodes: [nodeId], name: "demo update to 2.0.0"}),
		);
		say(`[demo] published firmware 2.0.0 as OTA job ${job.id} for ${nodeId}`);

		const supervised = superviseNode(
			[
				"--broker",
				running.mqttUrl,
				"--node-id",
				nodeId,
				"--flash-dir",
				join(work, "flash"),
				"--image",
				firstImage,
				"--fetch-delay",
				"1",
				"--reboot-delay",
				"2",
				"--rollback-wait",
				"30",
			],
			line => say(`[node] ${line}`),
			manual,
		);
		node = supervised;
		input = createInterface({input: process.stdin, terminal: false});
		input.on("line", line => supervised.send(line));

		await untilStopped(running.waitForStatus(nodeId, job.id, "delayed", 60_000));
		say(`[demo] update 2.0.0 available on ${nodeId}, waiting for approval`);
		// The node's product (product/switch.ts, docs/product.md): a switch that works while the update waits.
		const reinit = cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 3600_000);
		reinit.catch(() => undefined);
		if (manual)
			say(`[demo] the node is a switch: toggle its Power in the web page; it keeps the value through the update`);
		else {
			const switchedOn = cloud.waitFor(
				"params",
				event => event.nodeId === nodeId && !event.init && reportedPower(event.params) === true,
				20_000,
			);
			switchedOn.catch(() => undefined); // awaited below, or cut short by a signal
			await untilStopped(cloud.setParams(nodeId, {Switch: {Power: true}}));
			await untilStopped(switchedOn);
			say(
				`[demo] the app switched ${nodeId}'s Switch on (its product: esp.device.switch, Power); the node reported it`,
			);
		}
		if (manual) {
			say(
				`[demo] approve it in the web page (${new URL("/", running.httpUrl)}, node ${nodeId}), or type 'ota start' here`,
			);
			await untilStopped(running.waitForStatus(nodeId, job.id, "success", 3600_000));
			code = 0;
		} else {
			say(
				`[demo] approving as the phone app would: rainmaker-ota-xs app approve --node ${nodeId} --base-url ${running.httpUrl}`,
			);
			const appIo = {
				out: (line: string) => say(`[app] ${line}`),
				err: (line: string) => say(`[app] ${line}`),
				signal: stop.signal,
			};
			const state = ["--state-file", join(work, "app-state.json")];
			code = await untilStopped(
				appCommand(
					[
						"login",
						"--base-url",
						running.httpUrl,
						...state,
						"--user",
						DEFAULT_USER.userName,
						"--password",
						DEFAULT_USER.password,
					],
					appIo,
				),
			);
			if (code === 0)
				code = await untilStopped(
					appCommand(
						["approve", "--node", nodeId, "--base-url", running.httpUrl, ...state, "--timeout", "120"],
						appIo,
					),
				);
		}
		if (code === 0) {
			// The confirmed image reports success before its node config: wait for the config too.
			const runs = () => (running.node(nodeId)?.config?.info as {fw_version?: string} | undefined)?.fw_version;
			if (runs() !== "2.0.0")
				await untilStopped(
					running.waitFor("config", event => event.nodeId === nodeId, 10_000).catch(() => undefined),
				);
			say(`[demo] done: ${nodeId} runs firmware ${runs() ?? "?"}; job ${job.id} ended with success`);
			const power = reportedPower((await untilStopped(reinit.catch(() => undefined)))?.params);
			say(`[demo] the switch's Power after the update: ${power === true ? "on" : power === false ? "off" : "?"}`);
		} else say(`[demo] the update did not succeed (exit ${code}); see the lines above`);
		if (keep) {
			say("[demo] still running; Ctrl-C ends");
			await stopped.catch(() => (stoppedBy = undefined)); // the normal end: the update's exit code stays
		}
	} catch (error) {
		if (error instanceof DemoStopped) {
			say(`[demo] stopped by ${stoppedBy}: ending the node and the cloud, removing ${work}`);
			code = stoppedBy === "SIGTERM" ? 143 : 130;
		} else say(`[demo] ${error instanceof Error ? error.message : String(error)}`);
	} finally {
		input?.close();
		node?.stop();
		await node?.stopped;
		await cloud?.close();
		rmSync(work, {recursive: true, force: true});
		process.off("SIGINT", onSignal);
		process.off("SIGTERM", onSignal);
	}
	// Stopped mid-flow: the waits the signal cut short still hold their timers (up to an hour with
	// --manual); everything is closed and removed, so end now.
	if (stoppedBy !== undefined) process.exit(code);
	return code;
}
