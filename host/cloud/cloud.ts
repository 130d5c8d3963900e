/*
 * The local RainMaker-compatible cloud: an MQTT broker, the node registry, OTA images and jobs,
 * the firmware download and the REST API an app and an admin use, in one process on loopback,
 * started by `startCloud` (tests, simulator) or `rainmaker-ota-xs cloud` (main.ts). This file starts the listeners and puts the rooms together: the broker
 * (mqtt-server.ts, identity.ts), node messages (node-messages.ts), OTA jobs (ota-service.ts,
 * jobs.ts), users (users.ts), mappings (mappings.ts), and the HTTP side (http-entry.ts, rest/).
 */
import {EventEmitter} from "node:events";
import {createServer as createHttpServer} from "node:http";
import {createServer as createHttpsServer} from "node:https";
import type {OtaStatus} from "../../ota/status";
import {advertisedHostFor} from "./cli-access";
import type {Cloud, CloudEventMap, CloudOptions, MappingRequest} from "./cloud-api";
import {DEFAULT_USER} from "./defaults";
import {DownloadFaults, imagePath} from "./download";
import {ApiError, ErrorCode, type JsonObject} from "./http-json";
import {httpEntry} from "./http-entry";
import {ImageStore, type AddImageOptions, type OtaImage} from "./images";
import {
	JobStore,
	type JobSpec,
	type MalformedReport,
	type NodeJobState,
	type CloudOtaJob,
	type StatusReport,
} from "./jobs";
import {listen, type Listener} from "./listen";
import {mergedParamsProblem, NodeLimits} from "./limits";
import {MappingStore} from "./mappings";
import {startMqttServer, type MqttServer} from "./mqtt-server";
import {answerStreamRequest, handleNodeMessage} from "./node-messages";
import {OtaService} from "./ota-service";
import {NodeRegistry, type NodeRecord} from "./registry";
import type {CloudServices} from "./rest/context";
import {nodeTopic} from "./topics";
import {UserDirectory} from "./users";
import {waitForEvent, waitForStatus} from "./waiters";

export type * from "./cloud-api";

const defaultMaxBody = 1024 * 1024;
const defaultMaxImageBody = 24 * 1024 * 1024;

export async function startCloud(options: CloudOptions = {}): Promise<Cloud> {
	const cloud = new LocalCloud(options);
	await cloud.start();
	return cloud;
}

class LocalCloud implements Cloud, CloudServices {
	readonly events = new EventEmitter<CloudEventMap>();
	readonly faults = new DownloadFaults();
	readonly images: ImageStore;
	readonly jobStore: JobStore;
	readonly registry: NodeRegistry;
	readonly users: UserDirectory;
	readonly maxBodyBytes: number;
	readonly maxImageBodyBytes: number;
	mqttUrl = "";
	mqttsUrl?: string;
	httpUrl = "";
	httpsUrl?: string;
	downloadBaseUrl = "";
	readonly #options: CloudOptions;
	readonly #mappings: MappingStore;
	readonly #ota: OtaService;
	#mqtt?: MqttServer;
	readonly #listeners: Listener[] = [];
	#closed = false;

	constructor(options: CloudOptions) {
		this.#options = options;
		const now = options.now ?? Date.now;
		this.maxBodyBytes = options.maxBodyBytes ?? defaultMaxBody;
		this.maxImageBodyBytes = options.maxImageBodyBytes ?? defaultMaxImageBody;
		this.images = new ImageStore(now);
		this.jobStore = new JobStore(now, options.failedIsTerminal ?? false);
		this.registry = new NodeRegistry(now);
		this.users = new UserDirectory(
			options.users ?? [DEFAULT_USER],
			now,
			options.tokenLifetimeSeconds !== undefined ? {tokenLifetimeSeconds: options.tokenLifetimeSeconds} : {},
		);
		const log = (line: string) => this.#log(line);
		this.#mappings = new MappingStore(this.users, log);
		this.#ota = new OtaService({
			images: this.images,
			jobStore: this.jobStore,
			registry: this.registry,
			events: this.events,
			log,
			publish: (topic, payload) => this.#mqtt!.publish(topic, payload),
			imageUrl: image => this.imageUrl(image),
		});
		// A warning nobody listens to must not become an unhandled 'error'-like crash; it is only logged.
		this.events.on("warning", message => this.#log(`warning: ${message}`));
	}

	get failedIsTerminal(): boolean {
		return this.jobStore.failedIsTerminal;
	}

	get unknownReports(): readonly StatusReport[] {
		return this.jobStore.unknownReports;
	}

	get malformedReports(): readonly MalformedReport[] {
		return this.jobStore.malformedReports;
	}

	async start(): Promise<void> {
		const options = this.#options;
		const host = options.host ?? "127.0.0.1";
		const advertised = options.advertisedHost ?? advertisedHostFor(host) ?? host;
		const tls = options.tls;
		try {
			// With a CA every client proves its identity; the certificate-less listener only when asked for.
			const plain = !tls?.ca || options.plainMqtt === true;
			const limits = new NodeLimits(this.registry, {
				...(options.maxNodes !== undefined ? {maxNodes: options.maxNodes} : {}),
				...(options.maxNodesPerAddress !== undefined ? {maxNodesPerAddress: options.maxNodesPerAddress} : {}),
			});
			const messageDeps = {
				registry: this.registry,
				mappings: this.#mappings,
				ota: this.#ota,
				events: this.events,
				log: (line: string) => this.#log(line),
			};
			this.#mqtt = await startMqttServer(
				{
					host,
					...(plain ? {port: options.mqttPort ?? 0} : {}),
					...(tls
						? {
								tls: {
									key: tls.key,
									cert: tls.cert,
									...(tls.ca ? {ca: tls.ca} : {}),
									port: options.mqttsPort ?? 0,
								},
							}
						: {}),
				},
				{
					vetNodeMessage: (topic, payload, _clientId, address) => limits.vet(topic, payload, address),
					onNodeMessage: (topic, bytes, clientId) => handleNodeMessage(messageDeps, topic, bytes, clientId),
					onStreamRequest: (...request) => void answerStreamRequest(this, messageDeps.log, ...request),
					onClientConnected: clientId => {
						if (this.registry.clientConnected(clientId)) this.events.emit("online", clientId);
					},
					onClientDisconnected: clientId => {
						for (const nodeId of this.registry.clientDisconnected(clientId))
							this.events.emit("offline", nodeId);
					},
					onWarning: message => this.events.emit("warning", message),
				},
			);
			if (this.#mqtt.port !== undefined) this.mqttUrl = `mqtt://${advertised}:${this.#mqtt.port}`;
			if (this.#mqtt.tlsPort !== undefined) this.mqttsUrl = `mqtts://${advertised}:${this.#mqtt.tlsPort}`;
			const handler = httpEntry({
				services: this,
				faults: this.faults,
				events: this.events,
				...(options.downloadBytesPerSecond !== undefined
					? {downloadBytesPerSecond: options.downloadBytesPerSecond}
					: {}),
			});
			const http = await listen(createHttpServer(handler), host, options.httpPort ?? 0, "HTTP");
			this.#listeners.push(http);
			this.httpUrl = `http://${advertised}:${http.port}/v1/`;
			let downloadBase = `http://${advertised}:${http.port}/ota/`;
			if (tls) {
				const https = await listen(
					createHttpsServer({key: tls.key, cert: tls.cert}, handler),
					host,
					options.httpsPort ?? 0,
					"HTTPS",
				);
				this.#listeners.push(https);
				this.httpsUrl = `https://${advertised}:${https.port}/v1/`;
				if ((options.otaUrlScheme ?? "https") === "https")
					downloadBase = `https://${advertised}:${https.port}/ota/`;
			} else if (options.otaUrlScheme === "https") {
				throw new Error("otaUrlScheme https needs tls (key and certificate)");
			}
			this.downloadBaseUrl = downloadBase;
		} catch (error) {
			await this.close();
			throw error;
		}
	}

	addImage(source: string | Uint8Array, options?: string | AddImageOptions): Promise<OtaImage> {
		return this.images.add(source, typeof options === "string" ? {name: options} : options);
	}

	imageUrl(image: OtaImage): string {
		return new URL(imagePath(image).slice("/ota/".length), this.downloadBaseUrl).toString();
	}

	createJob(spec: JobSpec): Promise<CloudOtaJob> {
		return this.#ota.createJob(spec);
	}

	cancelJob(jobId: string): void {
		this.#ota.cancelJob(jobId);
	}

	approve(nodeId: string, jobId: string): Promise<void> {
		return this.#ota.approve(nodeId, jobId);
	}

	otaurlPayload(job: CloudOtaJob): JsonObject {
		return this.#ota.otaurlPayload(job);
	}

	async setParams(nodeId: string, payload: JsonObject): Promise<void> {
		const node = this.registry.get(nodeId);
		if (!node) throw new ApiError(404, `node ${nodeId} not found`);
		if (!node.online) throw new ApiError(400, "Node is offline", ErrorCode.nodeOffline);
		const problem = mergedParamsProblem(node.params, payload);
		if (problem !== undefined) throw new ApiError(400, `params not written: ${problem}`);
		this.registry.mergeParams(nodeId, payload);
		await this.#mqtt!.publish(nodeTopic(nodeId, "params/remote"), JSON.stringify(payload));
		this.#log(`${nodeId} ← params/remote ${JSON.stringify(payload)}`);
		this.events.emit("params-remote", {nodeId, payload});
	}

	requestMapping(nodeId: string, userId: string, secretKey: string): string {
		return this.#mappings.request(nodeId, userId, secretKey);
	}

	mappingRequest(requestId: string): MappingRequest | undefined {
		return this.#mappings.get(requestId);
	}

	node(nodeId: string): NodeRecord | undefined {
		return this.registry.get(nodeId);
	}

	nodes(): NodeRecord[] {
		return this.registry.all();
	}

	image(imageId: string): OtaImage | undefined {
		return this.images.get(imageId);
	}

	job(jobId: string): CloudOtaJob | undefined {
		return this.jobStore.get(jobId);
	}

	jobs(): CloudOtaJob[] {
		return this.jobStore.all();
	}

	jobState(nodeId: string, jobId: string): NodeJobState | undefined {
		return this.jobStore.state(nodeId, jobId);
	}

	statuses(nodeId: string, jobId: string): StatusReport[] {
		return [
			...(this.jobStore.state(nodeId, jobId)?.history ??
				this.unknownReports.filter(report => report.nodeId === nodeId && report.jobId === jobId)),
		];
	}

	waitForStatus(
		nodeId: string,
		jobId: string,
		match?: OtaStatus | ((report: StatusReport) => boolean),
		timeoutMs?: number,
	): Promise<StatusReport> {
		return waitForStatus(this.events, () => this.statuses(nodeId, jobId), nodeId, jobId, match, timeoutMs);
	}

	waitFor<K extends keyof CloudEventMap>(
		name: K,
		predicate?: (...args: CloudEventMap[K]) => boolean,
		timeoutMs?: number,
	): Promise<CloudEventMap[K][0]> {
		return waitForEvent(this.events, name, predicate, timeoutMs);
	}

	dropMqttClients(): void {
		this.#mqtt?.dropClients();
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await Promise.all(this.#listeners.map(listener => listener.close()));
		await this.#mqtt?.close();
	}

	#log(line: string): void {
		this.#options.log?.(line);
	}
}
