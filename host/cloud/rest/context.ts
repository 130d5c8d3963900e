/*
 * What a REST handler is given (docs/local-cloud.md, "REST API"): the request, its query, the
 * logged-in caller, body readers with the route's size limit, and the cloud's services. The
 * services are an interface here, so the handlers do not import the cloud that imports them.
 */
import type {IncomingMessage, ServerResponse} from "node:http";
import type {MappingRequest} from "../cloud-api";
import type {JsonObject} from "../http-json";
import type {AddImageOptions, ImageStore, OtaImage} from "../images";
import type {JobSpec, JobStore, NodeJobState, CloudOtaJob} from "../jobs";
import type {NodeRecord, NodeRegistry} from "../registry";
import type {Caller, UserDirectory} from "../users";

export interface CloudServices {
	readonly users: UserDirectory;
	readonly registry: NodeRegistry;
	readonly jobStore: JobStore;
	readonly images: ImageStore;
	readonly mqttUrl: string;
	readonly mqttsUrl?: string;
	/** Largest JSON body, and largest image upload body. */
	readonly maxBodyBytes: number;
	readonly maxImageBodyBytes: number;
	addImage(source: string | Uint8Array, options?: string | AddImageOptions): Promise<OtaImage>;
	imageUrl(image: OtaImage): string;
	createJob(spec: JobSpec): Promise<CloudOtaJob>;
	cancelJob(jobId: string): void;
	approve(nodeId: string, jobId: string): Promise<void>;
	setParams(nodeId: string, payload: JsonObject): Promise<void>;
	otaurlPayload(job: CloudOtaJob): JsonObject;
	requestMapping(nodeId: string, userId: string, secretKey: string): string;
	mappingRequest(requestId: string): MappingRequest | undefined;
	node(nodeId: string): NodeRecord | undefined;
	job(jobId: string): CloudOtaJob | undefined;
	jobs(): CloudOtaJob[];
	jobState(nodeId: string, jobId: string): NodeJobState | undefined;
}

export type Handler = (context: RequestContext) => Promise<void>;

export interface RequestContext {
	cloud: CloudServices;
	request: IncomingMessage;
	response: ServerResponse;
	query: URLSearchParams;
	/** The logged-in user; set for every route but the public ones. */
	caller?: Caller;
	/** Reads the JSON body with the route's size limit. */
	body(): Promise<unknown>;
	/** Reads the raw body with the route's size limit. */
	rawBody(): Promise<Buffer>;
}
