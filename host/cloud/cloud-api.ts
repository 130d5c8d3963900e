/*
 * The local cloud's public shape: its options, the `Cloud` handle tests and the CLI hold, and the
 * events it emits (docs/local-cloud.md). Types only; cloud.ts implements them.
 */
import type {EventEmitter} from "node:events";
import type {DownloadEvent, DownloadFaults} from "./download";
import type {JsonObject} from "./http-json";
import type {AddImageOptions, OtaImage} from "./images";
import type {OtaStatus} from "../../ota/status";
import type {CloudOtaJob, JobSpec, MalformedReport, NodeJobState, StatusReport} from "./jobs";
import type {NodeRecord} from "./registry";
import type {CloudUser} from "./users";

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
	/** Nodes the cloud keeps in all (limits.ts, DEFAULT_MAX_NODES); a new node's first message over it is refused. */
	maxNodes?: number;
	/** Nodes first seen from one client address (limits.ts, DEFAULT_MAX_NODES_PER_ADDRESS). */
	maxNodesPerAddress?: number;
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
	/** A GetStream request answered: `blocks` data messages sent (0 for a rejection). */
	stream: [{nodeId: string; streamId: string; blocks: number}];
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
	/** Download fault injection (one-shot faults, FIFO; `faults.stream` for MQTT file streams). */
	readonly faults: DownloadFaults;
	/** Adds an image from a file or bytes; rejects with InvalidImageError for a non-image. `options` as a string = the name. */
	addImage(source: string | Uint8Array, options?: string | AddImageOptions): Promise<OtaImage>;
	/** Creates a job; a force-push job is pushed at once to its online nodes (unless it needs approval). */
	createJob(spec: JobSpec): Promise<CloudOtaJob>;
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
	job(jobId: string): CloudOtaJob | undefined;
	jobs(): CloudOtaJob[];
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
	waitForStatus(
		nodeId: string,
		jobId: string,
		match?: OtaStatus | ((report: StatusReport) => boolean),
		timeoutMs?: number,
	): Promise<StatusReport>;
	/** Cuts every MQTT connection, as a network loss would; the broker keeps listening (nodes reconnect). */
	dropMqttClients(): void;
	/** Resolves with the next event of `name` whose argument matches; rejects after `timeoutMs`. */
	waitFor<K extends keyof CloudEventMap>(
		name: K,
		predicate?: (...args: CloudEventMap[K]) => boolean,
		timeoutMs?: number,
	): Promise<CloudEventMap[K][0]>;
	close(): Promise<void>;
}
