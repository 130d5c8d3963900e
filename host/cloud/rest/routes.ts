/*
 * The REST API of the local cloud under /v1/ (docs/protocol.md §9), one row per path: who may call
 * it and the handler of each method. Every user call needs the access token of a `login2` session
 * and reaches only the caller's own nodes; the admin calls need the first user (the super admin).
 * Adding a route: its handler in the module of its resource, and a row here.
 */
import type {Handler} from "./context";
import {getOtaImages, postOtaImage} from "./admin-images";
import {getOtaJobStatus, getOtaJobs, postOtaJob, putOtaJob} from "./admin-jobs";
import {getMapping, putMapping} from "./mapping";
import {getApiVersions, getMqttHost} from "./meta";
import {getNodeStatus, getUserNodes} from "./nodes";
import {getOtaStatus, getOtaUpdate, postOtaUpdate} from "./ota-update";
import {getConfig, getParams, putParams} from "./params";
import {getUser, postLogin, postLogout} from "./session";

export type Access = "public" | "user" | "admin";

export interface Route {
	access: Access;
	methods: Partial<Record<string, Handler>>;
	/** The body limit: "json" (default, `maxBodyBytes`) or "image" (`maxImageBodyBytes`). */
	body?: "json" | "image";
	/** Served at the root as well as under /v1/ (the CLI asks for them next to the versioned base). */
	root?: boolean;
}

export const routes: Readonly<Record<string, Route>> = {
	apiversions: {access: "public", root: true, methods: {GET: getApiVersions}},
	mqtt_host: {access: "public", root: true, methods: {GET: getMqttHost}},
	login2: {access: "public", methods: {POST: postLogin}},
	logout2: {access: "user", methods: {POST: postLogout}},
	user2: {access: "user", methods: {GET: getUser}},
	user: {access: "user", methods: {GET: getUser}},
	"user/nodes": {access: "user", methods: {GET: getUserNodes}},
	"user/nodes/status": {access: "user", methods: {GET: getNodeStatus}},
	"user/nodes/mapping": {access: "user", methods: {GET: getMapping, PUT: putMapping}},
	"user/nodes/config": {access: "user", methods: {GET: getConfig}},
	"user/nodes/params": {access: "user", methods: {GET: getParams, PUT: putParams}},
	"user/nodes/ota_status": {access: "user", methods: {GET: getOtaStatus}},
	"user/nodes/ota_update": {access: "user", methods: {GET: getOtaUpdate, POST: postOtaUpdate}},
	"admin/otaimage": {access: "admin", body: "image", methods: {GET: getOtaImages, POST: postOtaImage}},
	"admin/otajob": {access: "admin", methods: {GET: getOtaJobs, POST: postOtaJob, PUT: putOtaJob}},
	"admin/otajob/status": {access: "admin", methods: {GET: getOtaJobStatus}},
};
