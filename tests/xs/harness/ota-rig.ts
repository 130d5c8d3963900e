/*
 * The user-approval OTA flow inside XS: startFirmware (the real node agent, approval service and
 * update engine, compiled by tsc) on the bridged ports, a real broker with a scripted cloud that
 * answers otafetch with the offered job, and a real HTTP server with the image.
 */
import {createHash} from "node:crypto";
import {answerGetStream, parseStreamTopic} from "../../../host/cloud/streams";
import {streamTopic} from "../../../ota/stream-protocol";
import {startBroker, type TestBroker} from "../../support/broker";
import {waitUntil} from "../../support/wait";
import type {OtaOptions} from "../../../ota/options";
import {startImageServer, type ImageServer, type ServedImage} from "./image-server";
import {XsGuest, type XsGuestOptions} from "./xs-guest";

export interface OtaJobOffer {
	ota_job_id: string;
	url: string;
	stream_id?: string;
	file_size: number;
	fw_version?: string;
	file_md5?: string;
}

/** An otastatus message as the node publishes it (its status is ota/status.ts `OtaStatus`). */
export interface OtaStatusMessage {
	ota_job_id: string;
	status: string;
	additional_info: string;
	ts: number;
}

export interface XsOtaRig {
	readonly guest: XsGuest;
	readonly broker: TestBroker;
	readonly server: ImageServer;
	readonly nodeId: string;
	/** What the scripted cloud answers to otafetch (nothing while undefined). */
	offer: OtaJobOffer | undefined;
	fetches(): number;
	statuses(): OtaStatusMessage[];
	/** Waits (real time: network and XS) until `condition` holds. */
	until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
	/** Publishes on the node's params/remote. */
	write(payload: unknown): Promise<void>;
	state(): Promise<{
		started: boolean;
		offer: string | null;
		approved: string | null;
		busy: boolean;
		pendingTimers: number;
		openRequests: number;
	}>;
	close(): Promise<void>;
}

export interface XsOtaRigOptions extends Partial<XsGuestOptions> {
	readonly images: {readonly [name: string]: ServedImage};
	/** MQTT file streams the scripted cloud serves (docs/protocol.md §5.10), by stream id; their images need `read`. */
	readonly streams?: {readonly [streamId: string]: ServedImage};
	readonly ota?: Partial<OtaOptions>;
	/** "switch": the firmware carries the example product (product/switch.ts). */
	readonly product?: "switch";
}

export async function startXsOtaRig(options: XsOtaRigOptions): Promise<XsOtaRig> {
	const nodeId = options.nodeId ?? "xs-ota-node";
	const broker = await startBroker();
	const server = await startImageServer(options.images);
	const topic = (suffix: string) => `node/${nodeId}/${suffix}`;
	let guest: XsGuest;
	try {
		guest = await XsGuest.start({...options, nodeId, brokerUrl: broker.url});
	} catch (error) {
		await server.close();
		await broker.close();
		throw error;
	}
	const rig: XsOtaRig = {
		guest,
		broker,
		server,
		nodeId,
		offer: undefined,
		fetches: () => broker.messages.filter(m => m.topic === topic("otafetch")).length,
		statuses: () =>
			broker.messages
				.filter(m => m.topic === topic("otastatus"))
				.map(m => JSON.parse(m.payload) as OtaStatusMessage),
		async until(condition, what, timeoutMs = 10000) {
			// A fault inside XS ends the wait at once, with the fault as the reason.
			await waitUntil(() => guest.faults.length > 0 || condition(), what, timeoutMs);
			if (guest.faults.length) throw new Error(`XS guest fault while waiting for ${what}: ${guest.faults[0]}`);
		},
		write: payload => broker.publish(topic("params/remote"), JSON.stringify(payload)),
		state: () => guest.request("firmware.state") as ReturnType<XsOtaRig["state"]>,
		async close() {
			await guest.request("firmware.stop").catch(() => {});
			await guest.close();
			await server.close();
			await broker.close();
		},
	};
	broker.aedes.on("publish", (packet, client) => {
		if (client && packet.topic === topic("otafetch") && rig.offer !== undefined)
			void broker.publish(topic("otaurl"), JSON.stringify(rig.offer));
		const stream = client ? parseStreamTopic(packet.topic) : undefined;
		if (stream?.kind === "get/cbor") {
			const image = options.streams?.[stream.streamId];
			const file = image?.read ? {size: image.size, read: image.read.bind(image)} : undefined;
			void (async () => {
				for (const answer of answerGetStream(file, new Uint8Array(packet.payload as Buffer)))
					await new Promise<void>(resolve =>
						broker.aedes.publish(
							{
								cmd: "publish",
								topic: streamTopic(nodeId, stream.streamId, answer.kind),
								payload: Buffer.from(answer.payload),
								qos: 1,
								retain: false,
								dup: false,
							},
							() => resolve(),
						),
					);
			})();
		}
	});
	try {
		await guest.request("firmware.start", {
			config: {nodeId, ota: {allowHttp: true, ...options.ota}},
			...(options.product ? {product: options.product} : {}),
		});
		await rig.until(
			() => broker.messages.some(m => m.topic === topic("params/local/init")),
			"the node's initial params",
		);
		await guest.settle();
	} catch (error) {
		await rig.close();
		throw error;
	}
	return rig;
}

/** A job offer for `image` served as `name`. */
export function offerFor(
	rig: XsOtaRig,
	jobId: string,
	name: string,
	image: ServedImage,
	fwVersion: string,
	md5?: string,
): OtaJobOffer {
	return {
		ota_job_id: jobId,
		url: rig.server.url(name),
		file_size: image.size,
		fw_version: fwVersion,
		...(md5 ? {file_md5: md5} : {}),
	};
}

export function md5OfFile(bytes: Uint8Array): string {
	return createHash("md5").update(bytes).digest("hex");
}

/** The start-up fetch (5 s after the start) gets `job` offered: "delayed", Waiting for Approval. */
export async function offerJob(rig: XsOtaRig, job: OtaJobOffer): Promise<void> {
	rig.offer = job;
	await rig.guest.advance(5000);
	await rig.until(
		() => rig.statuses().some(s => s.ota_job_id === job.ota_job_id && s.status === "delayed"),
		"the offer (delayed)",
	);
	await rig.guest.settle();
}

/** The user approves the offered job (Operation=start) and the node fetches it again (1 s): the install starts. */
export async function approve(rig: XsOtaRig): Promise<void> {
	await rig.write({OTA: {Operation: "start"}});
	await rig.until(() => rig.guest.log.messages().some(m => m.includes("Operation=start")), "the approval write");
	await rig.guest.settle();
	await rig.guest.advance(1000);
}

/** The user-approval path up to the start of the download. */
export async function approveOffered(rig: XsOtaRig, job: OtaJobOffer): Promise<void> {
	await offerJob(rig, job);
	await approve(rig);
}
