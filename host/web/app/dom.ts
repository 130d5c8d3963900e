/* A few DOM helpers: the page is built from plain elements, updated in place (no framework). */

type Child = Node | string | null | undefined | false;

export interface ElementProps {
	[attribute: string]: string | number | boolean | undefined | ((event: Event) => void);
}

/** `el("button", {type: "button", onclick: ...}, "Text")`; `on*` props become listeners, `false`/`undefined` attributes are left out. */
export function el<K extends keyof HTMLElementTagNameMap>(
	tag: K,
	props: ElementProps = {},
	...children: Child[]
): HTMLElementTagNameMap[K] {
	const element = document.createElement(tag);
	for (const [name, value] of Object.entries(props)) {
		if (typeof value === "function") element.addEventListener(name.slice(2), value);
		else if (value === true) element.setAttribute(name, "");
		else if (value !== false && value !== undefined) element.setAttribute(name, String(value));
	}
	append(element, children);
	return element;
}

export function append(parent: Node, children: Child[]): void {
	for (const child of children) {
		if (child !== null && child !== undefined && child !== false)
			parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
	}
}

/** Replaces the children of `parent` (only when they differ in text, so focus and selection survive a poll). */
export function replace(parent: Element, ...children: Child[]): void {
	const fresh = document.createElement("div");
	append(fresh, children);
	if (fresh.innerHTML === parent.innerHTML) return;
	parent.replaceChildren(...fresh.childNodes);
}

/** Sets the text only when it changed (keeps screen readers from re-announcing the same text). */
export function setText(element: Element, text: string): void {
	if (element.textContent !== text) element.textContent = text;
}

let ids = 0;
export function uniqueId(prefix: string): string {
	return `${prefix}-${++ids}`;
}
