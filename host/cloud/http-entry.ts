/*
 * The cloud's HTTP entry: one handler for the HTTP and HTTPS listeners that sends a request to the
 * web page (docs/web-app.md), the firmware download (download.ts) or the REST API (rest/router.ts),
 * and answers any failure in the RainMaker error shape.
 */
import type {EventEmitter} from "node:events";
import type {IncomingMessage, ServerResponse} from "node:http";
import type {CloudEventMap} from "./cloud-api";
import {handleDownload, type DownloadFaults} from "./download";
import {ApiError, sendFailure} from "./http-json";
import type {CloudServices} from "./rest/context";
import {handleRest} from "./rest/router";
import {handleWebPage} from "../web/server";

export interface HttpEntryDeps {
	services: CloudServices;
	faults: DownloadFaults;
	events: EventEmitter<CloudEventMap>;
	downloadBytesPerSecond?: number;
}

export function httpEntry(deps: HttpEntryDeps): (request: IncomingMessage, response: ServerResponse) => void {
	const {services, faults, events} = deps;
	return (request, response) => {
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
		if (handleWebPage(request, response, pathname)) return;
		if (
			handleDownload(
				request,
				response,
				pathname,
				services.images,
				faults,
				image => services.imageUrl(image),
				event => events.emit("download", event),
				deps.downloadBytesPerSecond,
			)
		)
			return;
		handleRest(services, request, response, pathname, query).catch((error: unknown) => {
			// The details of an internal error go to the log, not to the caller.
			const apiError =
				error instanceof ApiError
					? error
					: new ApiError(500, "internal error of the local cloud (details in its log)");
			if (!(error instanceof ApiError))
				events.emit(
					"warning",
					`${request.method} ${request.url}: internal error: ${(error as Error)?.message ?? String(error)}`,
				);
			if (response.headersSent) {
				response.destroy();
				return;
			}
			// The rest of an oversized body is not read; close the connection after answering.
			if (apiError.httpStatus === 413) response.setHeader("Connection", "close");
			sendFailure(response, apiError);
		});
	};
}
