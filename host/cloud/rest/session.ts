/* `login2` (password or refresh token), `logout2` and the user record (docs/local-cloud.md, "Tokens"). */
import {ApiError, booleanQuery, expectObject, isObject, optionalString, requiredString, sendJson} from "../http-json";
import type {RequestContext} from "./context";

/** `POST login2`: `{user_name, password}` → three tokens; `{refreshtoken[, user_name]}` → new id and access tokens. */
export async function postLogin({cloud, request: http, response, body}: RequestContext): Promise<void> {
	const request = expectObject(await body(), "body");
	const userName = optionalString(request, "user_name");
	if (typeof request.refreshtoken === "string" && request.refreshtoken !== "") {
		const tokens = cloud.users.refresh(request.refreshtoken, userName);
		sendJson(response, 200, {status: "success", description: "Login successful", ...tokens});
		return;
	}
	if (userName === undefined)
		throw new ApiError(400, 'body: "user_name" and "password", or "refreshtoken", are required');
	const password = requiredString(request, "password");
	const tokens = await cloud.users.login(userName, password, http.socket.remoteAddress);
	sendJson(response, 200, {status: "success", description: "Login successful", ...tokens});
}

/** `POST logout2` (`logout_all`, in the body as the SDK sends it or in the query as the CLI does, ends every session of the user). */
export async function postLogout({cloud, response, caller, rawBody, query}: RequestContext): Promise<void> {
	const text = (await rawBody()).toString("utf8").trim();
	let all = booleanQuery(query, "logout_all", false);
	if (text !== "") {
		let value: unknown;
		try {
			value = JSON.parse(text);
		} catch (error) {
			throw new ApiError(400, `request body is not valid JSON: ${(error as Error).message}`);
		}
		if (isObject(value) && typeof value.logout_all === "boolean") all = value.logout_all;
	}
	cloud.users.logout(caller!, all);
	sendJson(response, 200, {status: "success", description: "Logged out successfully"});
}

/** `GET user2` / `GET user`. */
export async function getUser({response, caller}: RequestContext): Promise<void> {
	const account = caller!.account;
	sendJson(response, 200, {
		user_id: account.userId,
		user_name: account.userName,
		super_admin: account.superAdmin,
		picture_url: "",
		name: "",
		mfa: false,
	});
}
