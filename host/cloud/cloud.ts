/*
 * The local RainMaker-compatible cloud: an MQTT broker, the node registry, OTA images and jobs,
 * the firmware download and the REST API an app and an admin use, in one process on loopback.
 * Tests and the simulator start it with `startCloud`; `rainmaker-ota-xs cloud` runs it from the
 * command line (main.ts).
 */
import {EventEmitter} from "node:events";
import {createServer as createHttpServer, type IncomingMessage, type ServerResponse} from "node:http";
import {createServer as createHttpsServer} from "node:https";
import {DownloadFaults, handleDownload, imagePath, type DownloadEvent} from "./download";
import {ApiError, ErrorCode, isObject, sendFailure, type JsonObject} from "./http-json";
import {ImageStore, type AddImageOptions, type OtaImage} from "./images";
import {JobStore, isStatusReport, type JobSpec, type MalformedReport, type NodeJobState, type OtaJob, type OtaStatus, type StatusReport} from "./jobs";
import {listen, type Listener} from "./listen";
import {startMqttServer, type MqttServer} from "./mqtt-server";
import {NodeRegistry, type NodeRecord} from "./registry";
import {handleRest} from "./rest";
import {nodeTopic, type NodeTopic} from "./topics";
import {DEFAULT_USER} from "./defaults";
import {newRequestId} from "./user-rest";
import {UserDirectory, type CloudUser} from "./users";
import {handleWebPage} from "../web/server";

export interface CloudTls {
	key: string | Buffer;
	cert: string | Buffer;
	/** When given, MQTT/TLS clients must present a certificate signed by this CA (mutual TLS, docs/protocol.md §3.1). */
	ca?: string | Buffer;
}

export interface CloudOptions {
	/** Address to listen on. Default 127.0.0.1. */
	host?: string;
	/** Host name put into URLs (image URLs in otaurl, the urls of the Cloud object). Default: `host`. */
	advertisedHost?: string;
	/** Plain MQTT port; 0 (default) = any free port. */
	mqttPort?: number;
	/** REST + download over HTTP; 0 (default) = any free port. */
	httpPort?: number;
	/** With `tls`: MQTT over TLS and HTTPS are started too. */
	tls?: CloudTls;
	mqttsPort?: number;
	httpsPort?: number;
	/** Scheme of the image URLs sent in otaurl. Default: https when `tls` is given, else http. */
	otaUrlScheme?: "http" | "https";
	/**
	 * The users who log in with `login2` (docs/local-cloud.md, "Users and authorization"). The first
	 * one owns every node not mapped to another user and is the admin. Default: DEFAULT_USER.
	 */
	users?: CloudUser[];
	/** Lifetime of the id and access tokens `login2` issues. Default 3600 s. */
	tokenLifetimeSeconds?: number;
	/**
	 * With `tls.ca`: also run the plain (certificate-less) MQTT listener. Default false: with a CA,
	 * every MQTT client proves its identity with a certificate, as on AWS IoT.
	 */
	plainMqtt?: boolean;
	/** See jobs.ts: false (default) = a `failed` job is served again; true = `failed` ends it. */
	failedIsTerminal?: boolean;
	/** Largest JSON body of the REST API, except image uploads. Default 1 MiB. */
	maxBodyBytes?: number;
	/** Largest `POST admin/otaimage` body (base64 of a 16 MB image, docs/protocol.md §9.2). Default 24 MiB. */
	maxImageBodyBytes?: number;
	/** Serve firmware at about this many bytes per second (a device's link; benchmarks). Default 0 = as fast as possible. */
	downloadBytesPerSecond?: number;
	/** Epoch ms; for timestamps. Default Date.now. */
	now?: () => number;
	/** One line per event worth telling a person (the CLI prints them). Default: silent. */
	log?: (line: string) => void;
}

export interface NodeMessage {
	nodeId: string;
	suffix: string;
	rule?: string;
	payload: string;
	clientId: string;
}

export interface OtafetchEvent {
	nodeId: string;
	fwVersion?: string;
	/** The job served in answer, if any. */
	servedJobId?: string;
}

export interface OtaurlEvent {
	nodeId: string;
	jobId: string;
	payload: JsonObject;
	/** "otafetch", "force-push" or "approval". */
	reason: "otafetch" | "force-push" | "approval";
}

export interface CloudEventMap {
	/** Every message on a node→cloud topic, before it is handled. */
	message: [NodeMessage];
	config: [{nodeId: string; config: JsonObject}];
	params: [{nodeId: string; params: JsonObject; init: boolean}];
	/** Params written through the API and published on params/remote. */
	"params-remote": [{nodeId: string; payload: JsonObject}];
	otafetch: [OtafetchEvent];
	otaurl: [OtaurlEvent];
	/** Every readable otastatus report, also those for unknown jobs (`known: false`). */
	status: [StatusReport];
	"malformed-status": [MalformedReport];
	online: [string];
	offline: [string];
	download: [DownloadEvent];
	warning: [string];
}

export interface MappingRequest {
	nodeId: string;
	userId: string;
	secretKey: string;
	status: "requested" | "confirmed";
}

export interface Cloud {
	/** mqtt://host:port; "" when the plain listener is off (`tls.ca` without `plainMqtt`). */
	readonly mqttUrl: string;
	/** mqtts://host:port, with `tls`. */
	readonly mqttsUrl?: string;
	/** REST base, http://host:port/v1/ */
	readonly httpUrl: string;
	/** REST base over HTTPS, with `tls`. */
	readonly httpsUrl?: string;
	/** Base of the image URLs sent to nodes (scheme per `otaUrlScheme`), e.g. http://127.0.0.1:8080/ota/ */
	readonly downloadBaseUrl: string;
	readonly failedIsTerminal: boolean;
	readonly events: EventEmitter<CloudEventMap>;
	/** Download fault injection (one-shot faults, FIFO). */
	readonly faults: DownloadFaults;
	/** Adds an image from a file or bytes; rejects with InvalidImageError for a non-image. `options` as a string = the name. */
	addImage(source: string | Uint8Array, options?: string | AddImageOptions): Promise<OtaImage>;
	/** Creates a job; a force-push job is pushed at once to its online nodes (unless it needs approval). */
	createJob(spec: JobSpec): Promise<OtaJob>;
	/** Ends a job for every node (never served again). */
	cancelJob(jobId: string): void;
	/** `POST user/nodes/ota_update`: approves a job for the node and pushes it; throws ApiError (404/400) otherwise. */
	approve(nodeId: string, jobId: string): Promise<void>;
	/** `PUT user/nodes/params`: publishes on params/remote and keeps the written values. Throws ApiError when unknown/offline. */
	setParams(nodeId: string, payload: JsonObject): Promise<void>;
	/** The URL of an image, as sent in otaurl. */
	imageUrl(image: OtaImage): string;
	node(nodeId: string): NodeRecord | undefined;
	nodes(): NodeRecord[];
	image(imageId: string): OtaImage | undefined;
	job(jobId: string): OtaJob | undefined;
	jobs(): OtaJob[];
	/** State of a job for a node (status, closed, approved, servedCount, history). */
	jobState(nodeId: string, jobId: string): NodeJobState | undefined;
	/** Every status report of the node for the job, in order. */
	statuses(nodeId: string, jobId: string): StatusReport[];
	/** Reports for unknown jobs, and unreadable ones. */
	readonly unknownReports: readonly StatusReport[];
	readonly malformedReports: readonly MalformedReport[];
	/**
	 * Resolves with the first report of the node for the job that matches (a status string or a
	 * predicate; default: any), also one that arrived before the call. Rejects after `timeoutMs`.
	 */
	waitForStatus(nodeId: string, jobId: string, match?: OtaStatus | ((report: StatusReport) => boolean), timeoutMs?: number): Promise<StatusReport>;
	/** Cuts every MQTT connection, as a network loss would; the broker keeps listening (nodes reconnect). */
	dropMqttClients(): void;
	/** Resolves with the next event of `name` whose argument matches; rejects after `timeoutMs`. */
	waitFor<K extends keyof CloudEventMap>(name: K, predicate?: (...args: CloudEventMap[K]) => boolean, timeoutMs?: number): Promise<CloudEventMap[K][0]>;
	close(): Promise<void>;
}

const defaultWaitMs = 10_000;
const maxMappingRequests = 1000;

export async function startCloud(options: CloudOptions = {}): Promise<Cloud> {
	const cloud = new LocalCloud(options);
	await cloud.start();
	return cloud;
}

/** Exported for rest.ts; use `startCloud`. */
export class LocalCloud implements Cloud {
	readonly events = new EventEmitter<CloudEventMap>();
	readonly faults = new DownloadFaults();
	readonly images: ImageStore;
	readonly jobStore: JobStore;
	readonly registry: NodeRegistry;
	readonly users: UserDirectory;
	readonly options: CloudOptions;
	readonly #mappingRequests = new Map<string, MappingRequest>();
	/** The last `user/mapping` report of each node (the node's half of a mapping; docs/local-cloud.md, "Users and authorization"). */
	readonly #nodeMappings = new Map<string, {userId: string; secretKey: string}>();
	readonly now: () => number;
	mqttUrl = "";
	mqttsUrl?: string;
	httpUrl = "";
	httpsUrl?: string;
	downloadBaseUrl = "";
	#mqtt?: MqttServer;
	readonly #listeners: Listener[] = [];
	#closed = false;

	constructor(options: CloudOptions) {
		this.options = options;
		this.now = options.now ?? Date.now;
		this.images = new ImageStore(this.now);
		this.jobStore = new JobStore(this.now, options.failedIsTerminal ?? false);
		this.registry = new NodeRegistry(this.now);
		this.users = new UserDirectory(options.users ?? [DEFAULT_USER], this.now,
			options.tokenLifetimeSeconds !== undefined ? {tokenLifetimeSeconds: options.tokenLifetimeSeconds} : {});
		// A warning nobody listens to must not become an unhandled 'error'-like crash; it is only logged.
		this.events.on("warning", (message) => this.#log(`warning: ${message}`));
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
		const host = this.options.host ?? "127.0.0.1";
		const advertised = this.options.advertisedHost ?? host;
		const tls = this.options.tls;
		try {
			// With a CA every client proves its identity; the certificate-less listener only when asked for.
			const plain = !tls?.ca || this.options.plainMqtt === true;
			this.#mqtt = await startMqttServer({
				host,
				...(plain ? {port: this.options.mqttPort ?? 0} : {}),
				...(tls ? {tls: {key: tls.key, cert: tls.cert, ...(tls.ca ? {ca: tls.ca} : {}), port: this.options.mqttsPort ?? 0}} : {}),
			}, {
				onNodeMessage: (topic, payload, clientId) => this.#onNodeMessage(topic, payload.toString("utf8"), clientId),
				onClientConnected: (clientId) => {
					if (this.registry.clientConnected(clientId))
						this.events.emit("online", clientId);
				},
				onClientDisconnected: (clientId) => {
					for (const nodeId of this.registry.clientDisconnected(clientId))
						this.events.emit("offline", nodeId);
				},
				onWarning: (message) => this.events.emit("warning", message),
			});
			if (this.#mqtt.port !== undefined)
				this.mqttUrl = `mqtt://${advertised}:${this.#mqtt.port}`;
			if (this.#mqtt.tlsPort !== undefined)
				this.mqttsUrl = `mqtts://${advertised}:${this.#mqtt.tlsPort}`;
			const handler = (request: IncomingMessage, response: ServerResponse) => this.#onRequest(request, response);
			const http = await listen(createHttpServer(handler), host, this.options.httpPort ?? 0, "HTTP");
			this.#listeners.push(http);
			this.httpUrl = `http://${advertised}:${http.port}/v1/`;
			let downloadBase = `http://${advertised}:${http.port}/ota/`;
			if (tls) {
				const https = await listen(createHttpsServer({key: tls.key, cert: tls.cert}, handler), host, this.options.httpsPort ?? 0, "HTTPS");
				this.#listeners.push(https);
				this.httpsUrl = `https://${advertised}:${https.port}/v1/`;
				if ((this.options.otaUrlScheme ?? "https") === "https")
					downloadBase = `https://${advertised}:${https.port}/ota/`;
			} else if (this.options.otaUrlScheme === "https") {
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

	async createJob(spec: JobSpec): Promise<OtaJob> {
		if (!this.images.get(spec.imageId))
			throw new ApiError(404, `OTA image ${spec.imageId} not found`);
		if (!Array.isArray(spec.nodes) || spec.nodes.length === 0 || spec.nodes.length > 100 || spec.nodes.some((node) => typeof node !== "string" || node === ""))
			throw new ApiError(400, "nodes must be an array of 1..100 non-empty node id strings");
		const job = this.jobStore.create(spec);
		this.#log(`job ${job.id} (${job.name}) created for ${job.nodes.join(", ")}: image ${spec.imageId}` +
			`${job.userApproval ? ", user approval" : ""}${job.forcePush ? ", force push" : ""}`);
		if (job.forcePush && !job.userApproval) {
			for (const nodeId of job.nodes) {
				if (this.registry.get(nodeId)?.online)
					await this.#serve(nodeId, job, "force-push");
			}
		}
		return job;
	}

	cancelJob(jobId: string): void {
		if (!this.jobStore.cancel(jobId))
			throw new ApiError(404, `OTA job ${jobId} not found`);
	}

	async approve(nodeId: string, jobId: string): Promise<void> {
		const job = this.jobStore.get(jobId);
		if (!job)
			throw new ApiError(404, `OTA job ${jobId} not found`);
		if (!this.jobStore.state(nodeId, jobId))
			throw new ApiError(404, `node ${nodeId} is not part of OTA job ${jobId}`);
		if (!this.jobStore.isOpen(nodeId, jobId))
			throw new ApiError(400, `OTA job ${jobId} is no longer open for node ${nodeId}`);
		if (!this.registry.get(nodeId)?.online)
			throw new ApiError(400, "Node is offline", ErrorCode.nodeOffline);
		this.jobStore.approve(nodeId, jobId);
		await this.#serve(nodeId, job, "approval");
	}

	async setParams(nodeId: string, payload: JsonObject): Promise<void> {
		const node = this.registry.get(nodeId);
		if (!node)
			throw new ApiError(404, `node ${nodeId} not found`);
		if (!node.online)
			throw new ApiError(400, "Node is offline", ErrorCode.nodeOffline);
		this.registry.mergeParams(nodeId, payload);
		await this.#mqtt!.publish(nodeTopic(nodeId, "params/remote"), JSON.stringify(payload));
		this.#log(`${nodeId} ← params/remote ${JSON.stringify(payload)}`);
		this.events.emit("params-remote", {nodeId, payload});
	}

	node(nodeId: string): NodeRecord | undefined {
		return this.registry.get(nodeId);
	}

	/**
	 * `PUT user/nodes/mapping` add: the user's half of a mapping. It is confirmed when the node
	 * reports the same user id and secret key on `node/<id>/user/mapping` (before or after), as the
	 * real cloud confirms a mapping only with the node's word.
	 */
	requestMapping(nodeId: string, userId: string, secretKey: string): string {
		const requestId = newRequestId();
		const request: MappingRequest = {nodeId, userId, secretKey, status: "requested"};
		if (this.#mappingRequests.size >= maxMappingRequests)
			this.#mappingRequests.delete(this.#mappingRequests.keys().next().value!);
		this.#mappingRequests.set(requestId, request);
		this.#confirmMappings(nodeId);
		return requestId;
	}

	mappingRequest(requestId: string): MappingRequest | undefined {
		return this.#mappingRequests.get(requestId);
	}

	#confirmMappings(nodeId: string): void {
		const reported = this.#nodeMappings.get(nodeId);
		if (!reported)
			return;
		for (const request of this.#mappingRequests.values()) {
			if (request.nodeId === nodeId && request.status === "requested" && request.userId === reported.userId && request.secretKey === reported.secretKey) {
				request.status = "confirmed";
				this.users.map(nodeId, request.userId);
				this.#nodeMappings.delete(nodeId);
				this.#log(`${nodeId} mapped to user ${this.users.users.find((user) => user.userId === request.userId)?.userName ?? request.userId}`);
			}
		}
	}

	nodes(): NodeRecord[] {
		return this.registry.all();
	}

	image(imageId: string): OtaImage | undefined {
		return this.images.get(imageId);
	}

	job(jobId: string): OtaJob | undefined {
		return this.jobStore.get(jobId);
	}

	jobs(): OtaJob[] {
		return this.jobStore.all();
	}

	jobState(nodeId: string, jobId: string): NodeJobState | undefined {
		return this.jobStore.state(nodeId, jobId);
	}

	statuses(nodeId: string, jobId: string): StatusReport[] {
		return [...(this.jobStore.state(nodeId, jobId)?.history ?? this.unknownReports.filter((report) => report.nodeId === nodeId && report.jobId === jobId))];
	}

	waitForStatus(nodeId: string, jobId: string, match?: OtaStatus | ((report: StatusReport) => boolean), timeoutMs = defaultWaitMs): Promise<StatusReport> {
		const matches = (report: StatusReport) => report.nodeId === nodeId && report.jobId === jobId &&
			(match === undefined || (typeof match === "string" ? report.status === match : match(report)));
		const earlier = this.statuses(nodeId, jobId).find(matches);
		if (earlier)
			return Promise.resolve(earlier);
		return this.waitFor("status", matches, timeoutMs).catch(() => {
			throw new Error(`cloud: no ${typeof match === "string" ? `"${match}" ` : ""}status from ${nodeId} for ${jobId} within ${timeoutMs} ms` +
				` (got: ${this.statuses(nodeId, jobId).map((report) => report.status).join(", ") || "none"})`);
		});
	}

	waitFor<K extends keyof CloudEventMap>(name: K, predicate?: (...args: CloudEventMap[K]) => boolean, timeoutMs = defaultWaitMs): Promise<CloudEventMap[K][0]> {
		return new Promise((resolve, reject) => {
			const emitter = this.events as EventEmitter;
			const listener = (...args: unknown[]) => {
				if (predicate && !(predicate as (...values: unknown[]) => boolean)(...args))
					return;
				clearTimeout(timer);
				emitter.off(name, listener);
				resolve(args[0] as CloudEventMap[K][0]);
			};
			const timer = setTimeout(() => {
				emitter.off(name, listener);
				reject(new Error(`cloud: no matching "${name}" event within ${timeoutMs} ms`));
			}, timeoutMs);
			emitter.on(name, listener);
		});
	}

	dropMqttClients(): void {
		this.#mqtt?.dropClients();
	}

	async close(): Promise<void> {
		if (this.#closed)
			return;
		this.#closed = true;
		await Promise.all(this.#listeners.map((listener) => listener.close()));
		await this.#mqtt?.close();
	}

	/** The otaurl payload of docs/protocol.md §4.2 for a job. */
	otaurlPayload(job: OtaJob): JsonObject {
		const image = this.images.get(job.imageId)!;
		return {
			ota_job_id: job.id,
			url: this.imageUrl(image),
			file_size: image.fileSize,
			fw_version: image.fwVersion,
			file_md5: image.fileMd5,
			...(job.metadata ? {metadata: job.metadata} : {}),
		};
	}

	async #serve(nodeId: string, job: OtaJob, reason: OtaurlEvent["reason"]): Promise<void> {
		const payload = this.otaurlPayload(job);
		this.jobStore.markServed(nodeId, job.id);
		await this.#mqtt!.publish(nodeTopic(nodeId, "otaurl"), JSON.stringify(payload));
		this.#log(`${nodeId} ← otaurl ${job.id} (${reason}): ${payload.fw_version}, ${payload.file_size} bytes`);
		this.events.emit("otaurl", {nodeId, jobId: job.id, payload, reason});
	}

	#onNodeMessage(topic: NodeTopic, payload: string, clientId: string): void {
		const {nodeId, suffix} = topic;
		if (this.registry.seen(nodeId, clientId))
			this.events.emit("online", nodeId);
		this.events.emit("message", {nodeId, suffix, ...(topic.rule !== undefined ? {rule: topic.rule} : {}), payload, clientId});
		const json = (): JsonObject | undefined => {
			try {
				const value: unknown = JSON.parse(payload);
				if (isObject(value))
					return value;
			} catch {
				// reported below
			}
			this.events.emit("warning", `${nodeId}/${suffix}: payload is not a JSON object, ignored`);
			return undefined;
		};
		if (suffix === "config") {
			const config = json();
			if (config) {
				this.registry.setConfig(nodeId, config);
				this.#log(`${nodeId} → config`);
				this.events.emit("config", {nodeId, config});
			}
		} else if (suffix === "params/local/init" || suffix === "params/local" || suffix.startsWith("params/local/")) {
			const params = json();
			if (params) {
				const init = suffix === "params/local/init";
				if (init)
					this.registry.replaceParams(nodeId, params);
				else
					this.registry.mergeParams(nodeId, params);
				this.#log(`${nodeId} → ${suffix} ${payload}`);
				this.events.emit("params", {nodeId, params, init});
			}
		} else if (suffix === "user/mapping") {
			const mapping = json();
			if (mapping && typeof mapping.user_id === "string" && typeof mapping.secret_key === "string") {
				this.#nodeMappings.set(nodeId, {userId: mapping.user_id, secretKey: mapping.secret_key});
				this.#confirmMappings(nodeId);
			}
		} else if (suffix === "otafetch") {
			this.#onOtafetch(nodeId, payload);
		} else if (suffix === "otastatus") {
			const report = this.jobStore.report(nodeId, payload);
			if (isStatusReport(report)) {
				this.#log(`${nodeId} → otastatus ${report.jobId} ${report.status}: ${report.additionalInfo}${report.known ? "" : " (unknown job, ignored)"}`);
				this.events.emit("status", report);
			} else {
				this.events.emit("warning", `${nodeId}/otastatus: ${report.problem}, ignored`);
				this.events.emit("malformed-status", report);
			}
		}
	}

	#onOtafetch(nodeId: string, payload: string): void {
		// The node id comes from the topic; a broken payload still asks for an update.
		let fwVersion: string | undefined;
		try {
			const message: unknown = JSON.parse(payload);
			if (isObject(message) && typeof message.fw_version === "string")
				fwVersion = message.fw_version;
		} catch {
			this.events.emit("warning", `${nodeId}/otafetch: payload is not JSON`);
		}
		const node = this.registry.ensure(nodeId);
		if (fwVersion !== undefined)
			node.fetchedFwVersion = fwVersion;
		const job = this.jobStore.jobToServe(nodeId);
		this.#log(`${nodeId} → otafetch (fw ${fwVersion ?? "?"}): ${job ? `serving ${job.id}` : "nothing to serve"}`);
		this.events.emit("otafetch", {nodeId, ...(fwVersion !== undefined ? {fwVersion} : {}), ...(job ? {servedJobId: job.id} : {})});
		if (job)
			this.#serve(nodeId, job, "otafetch").catch((error: Error) => this.events.emit("warning", `otaurl to ${nodeId}: ${error.message}`));
	}

	#onRequest(request: IncomingMessage, response: ServerResponse): void {
		let pathname: string;
		let query: URLSearchParams;
		try {
			// "//v1/…" (a base URL with a trailing slash) is a path here, not a protocol-relative URL.
			const url = new URL((request.url ?? "/").replace(/^\/{2,}/, "/"), "http://local");
			pathname = url.pathname;
			query = url.searchParams;
		} catch {
			sendFailure(response, new ApiError(400, "malformed request URL"));
			return;
		}
		// The browser page (docs/web-app.md) at `/`: it calls the REST API below like any app.
		if (handleWebPage(request, response, pathname))
			return;
		if (handleDownload(request, response, pathname, this.images, this.faults, (image) => this.imageUrl(image),
			(event) => this.events.emit("download", event), this.options.downloadBytesPerSecond))
			return;
		handleRest(this, request, response, pathname, query).catch((error: unknown) => {
			const apiError = error instanceof ApiError ? error : new ApiError(500, `internal error: ${(error as Error)?.message ?? String(error)}`);
			if (!(error instanceof ApiError))
				this.events.emit("warning", `${request.method} ${request.url}: ${apiError.message}`);
			if (response.headersSent) {
				response.destroy();
				return;
			}
			// The rest of an oversized body is not read; close the connection after answering.
			if (apiError.httpStatus === 413)
				response.setHeader("Connection", "close");
			sendFailure(response, apiError);
		});
	}

	#log(line: string): void {
		this.options.log?.(line);
	}
}
