/*
 * The page (docs/web-app.md): sign in with the cloud's login, then the user's nodes, one node's OTA
 * screen and the admin side, refreshed by polling the REST API once a second (no reload).
 */
import {AdminPanel} from "./admin-panel";
import {RainMakerApiError, RestApi} from "./api";
import {el, replace, setText} from "./dom";
import {describe, formatTime} from "./format";
import {fetchNodes, type NodeSummary} from "./nodes";
import {NodePanel} from "./node-panel";
import {readCatalog} from "./ota-api";

const pollMs = 1000;
const api = new RestApi();
const root = document.getElementById("app")!;
const userLine = el("span", {class: "user"});
const signOut = el("button", {type: "button", class: "link"}, "Sign out");
const banner = el("p", {class: "error banner", role: "alert"});
const header = el("header", {}, el("h1", {}, "RainMaker OTA"), el("div", {class: "session"}, userLine, signOut));

let timer: ReturnType<typeof setTimeout> | undefined;
let generation = 0;

api.onSignedOut = reason => showSignIn(reason);
signOut.addEventListener("click", () => {
	void api.logout().finally(() => showSignIn("You are signed out."));
});

function showSignIn(message = ""): void {
	generation++;
	clearTimeout(timer);
	signOut.hidden = true;
	setText(userLine, "");
	const user = el("input", {type: "email", id: "user", name: "user", autocomplete: "username", required: true});
	const password = el("input", {
		type: "password",
		id: "password",
		name: "password",
		autocomplete: "current-password",
		required: true,
	});
	const submit = el("button", {type: "submit", class: "primary"}, "Sign in");
	const error = el("p", {class: "error", role: "alert", id: "signin-error"}, message);
	const form = el(
		"form",
		{class: "card signin", "aria-labelledby": "signin-title"},
		el("h2", {id: "signin-title"}, "Sign in"),
		el("div", {class: "field"}, el("label", {for: "user"}, "Email"), user),
		el("div", {class: "field"}, el("label", {for: "password"}, "Password"), password),
		submit,
		error,
	);
	form.addEventListener("submit", event => {
		event.preventDefault();
		setText(error, "");
		submit.disabled = true;
		api.login(user.value.trim(), password.value).then(
			() => void showApp(),
			(failure: unknown) => {
				setText(error, `Sign-in failed: ${describe(failure)}`);
				submit.disabled = false;
				password.select();
			},
		);
	});
	replace(root, header, form);
	user.focus();
}

/** `GET user2`: whether the user is the cloud's admin (super_admin), who may use admin/otaimage and admin/otajob. */
async function isAdmin(): Promise<boolean> {
	try {
		const user = await api.call("GET", "user2");
		return typeof user === "object" && user !== null && !Array.isArray(user) && user.super_admin === true;
	} catch {
		return false;
	}
}

async function showApp(): Promise<void> {
	const mine = ++generation;
	const admin = await isAdmin();
	if (mine !== generation) return;
	signOut.hidden = false;
	setText(userLine, `Signed in as ${api.session?.userName ?? "?"}`);
	const list = el("tbody");
	const listNote = el("p", {class: "note"}, "Loading your nodes…");
	const detail = el("div", {class: "detail"});
	const adminPanel = admin ? new AdminPanel(api) : undefined;
	let panel: NodePanel | undefined;
	let nodes: NodeSummary[] = [];

	const select = (nodeId: string) => {
		const node = nodes.find(item => item.id === nodeId);
		if (!node) return;
		location.hash = `node=${encodeURIComponent(nodeId)}`;
		panel = new NodePanel(api, node, admin);
		replace(detail, panel.element);
		renderList();
		panel.focus();
		void panel.update(node);
	};

	const renderList = () => {
		replace(
			list,
			...nodes.map(node => {
				const open = el(
					"button",
					{
						type: "button",
						class: "link node-link",
						"data-node": node.id,
						"aria-current": panel?.nodeId === node.id ? "true" : undefined,
						onclick: () => select(node.id),
					},
					node.id,
				);
				return el(
					"tr",
					{},
					el("th", {scope: "row", "data-label": "Node"}, open),
					el(
						"td",
						{class: node.online ? "online" : "offline", "data-label": "State"},
						node.online ? "Online" : `Offline${node.since ? ` since ${formatTime(node.since)}` : ""}`,
					),
					el("td", {"data-label": "Firmware"}, node.fwVersion ?? "unknown"),
					el("td", {"data-label": "Project"}, node.project ?? "unknown"),
					el(
						"td",
						{class: "node-update", "data-label": "Update"},
						node.offer ? `Update ${node.offer.fwVersion ?? ""} offered` : "—",
					),
				);
			}),
		);
		setText(
			listNote,
			nodes.length === 0
				? "You have no nodes yet: a node you own appears here once it has connected to the cloud."
				: "",
		);
	};

	replace(
		root,
		header,
		banner,
		el(
			"main",
			{},
			el(
				"section",
				{class: "nodes", "aria-labelledby": "nodes-title"},
				el("h2", {id: "nodes-title"}, "Your nodes"),
				el(
					"table",
					{class: "stack node-list", "aria-labelledby": "nodes-title"},
					el(
						"thead",
						{},
						el(
							"tr",
							{},
							el("th", {scope: "col"}, "Node"),
							el("th", {scope: "col"}, "State"),
							el("th", {scope: "col"}, "Firmware"),
							el("th", {scope: "col"}, "Project"),
							el("th", {scope: "col"}, "Update"),
						),
					),
					list,
				),
				listNote,
			),
			detail,
			adminPanel?.element,
		),
	);

	const poll = async () => {
		try {
			// One poll, one set of data: everything is read first, then every view is drawn from it
			// together, so the list, the node's panel, its history and the admin forms never disagree.
			const fresh = await fetchNodes(api);
			const wanted = decodeURIComponent(/node=([^&]+)/.exec(location.hash)?.[1] ?? "");
			const current = panel && fresh.find(node => node.id === panel!.nodeId);
			const catalog = admin ? readCatalog(api) : undefined;
			await Promise.all([current ? panel!.load(current, catalog) : undefined, adminPanel?.load(catalog)]);
			if (mine !== generation) return;
			nodes = fresh;
			setText(banner, "");
			renderList();
			adminPanel?.setNodes(nodes);
			adminPanel?.render();
			if (current) panel!.render();
			else if (!panel && wanted && nodes.some(node => node.id === wanted)) select(wanted);
		} catch (error) {
			if (mine !== generation) return;
			if (error instanceof RainMakerApiError && error.httpStatus === 401 && !api.session) return;
			setText(banner, `Cannot refresh: ${describe(error)}. Trying again…`);
		}
		if (mine === generation) timer = setTimeout(() => void poll(), pollMs);
	};
	void poll();
}

if (api.session) void showApp();
else showSignIn();
