/*
 * Dispatch of a REST request to its route (routes.ts): CORS preflight, 404/405, the caller's
 * token and role, and the body limit. Every failure is an ApiError, answered by the caller as
 * `{"status":"failure","description":...,"error_code":...}`.
 */
import type {IncomingMessage, ServerResponse} from "node:http";
import {ApiError, ErrorCode, readBody, readJsonBody} from "../http-json";
import type {Caller} from "../users";
import type {CloudServices} from "./context";
import {routes} from "./routes";

/**
 * The route of a path. Base URLs are accepted with or without a trailing slash, so repeated
 * slashes (`http://host:8080/v1//login2`, `…/v1/user/nodes/`) are read as one.
 */
export function routeName(pathname: string): string | undefined {
	const path = pathname.replace(/\/{2,}/g, "/").replace(/^\/|\/$/g, "");
	if (path.startsWith("v1/")) return path.slice(3);
	return Object.hasOwn(routes, path) && routes[path]!.root === true ? path : undefined;
}

export async function handleRest(
	cloud: CloudServices,
	request: IncomingMessage,
	response: ServerResponse,
	pathname: string,
	query: URLSearchParams,
): Promise<void> {
	const name = routeName(pathname);
	const route = name !== undefined && Object.hasOwn(routes, name) ? routes[name] : undefined;
	// A web app on another origin may call the API, as it may call the real one: the token travels
	// in the Authorization header, never in a cookie, so any origin is allowed.
	response.setHeader("Access-Control-Allow-Origin", "*");
	if (request.method === "OPTIONS" && route) {
		response.writeHead(204, {
			"Access-Control-Allow-Methods": Object.keys(route.methods).join(", "),
			"Access-Control-Allow-Headers": "Authorization, Content-Type",
			"Access-Control-Max-Age": "600",
		});
		response.end();
		return;
	}
	if (name === undefined || !route) throw new ApiError(404, `no such API: ${pathname}`);
	const handler = Object.hasOwn(route.methods, request.method ?? "")
		? route.methods[request.method ?? ""]
		: undefined;
	if (!handler) {
		const allow = Object.keys(route.methods).join(", ");
		throw new ApiError(
			405,
			`method ${request.method} not allowed on ${pathname} (allowed: ${allow})`,
			ErrorCode.methodNotAllowed,
			{Allow: allow},
		);
	}
	let caller: Caller | undefined;
	if (route.access !== "public") {
		caller = cloud.users.authenticate(request.headers.authorization);
		if (route.access === "admin" && !caller.account.superAdmin)
			throw new ApiError(
				403,
				`Forbidden: ${name} is for the cloud's admin user (${cloud.users.firstUser.userName})`,
				ErrorCode.forbidden,
			);
	}
	const limit = route.body === "image" ? cloud.maxImageBodyBytes : cloud.maxBodyBytes;
	await handler({
		cloud,
		request,
		response,
		query,
		...(caller ? {caller} : {}),
		body: () => readJsonBody(request, limit),
		rawBody: () => readBody(request, limit),
	});
}
