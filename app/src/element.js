// <vantage-sync-status>: the widget as a custom element. Attributes are the widget's settings
// (supabase-url, rest-url, functions-url, publishable-key, anon-key, refresh-seconds,
// resource), plus access-token and theme="light|dark" (CSS only). The `accessToken` property
// takes a token without putting it in the DOM. Changing a setting remounts the widget;
// changing the token only hands it over (the widget reads again at once). Moving the element
// elsewhere in the page keeps the widget as it is.
//
// Defined from Rust (`embed.rs`) with the exported `mount` function; a JavaScript class is
// needed because custom elements must extend HTMLElement.
const SETTINGS = [
  "supabase-url",
  "rest-url",
  "functions-url",
  "publishable-key",
  "anon-key",
  "refresh-seconds",
  "resource",
];

export function defineElement(mount) {
  if (customElements.get("vantage-sync-status")) return;

  class VantageSyncStatus extends HTMLElement {
    static get observedAttributes() {
      return [...SETTINGS, "access-token"];
    }

    constructor() {
      super();
      this._widget = null;
      this._token = null;
      // A property set before this class was defined is an own property that hides the
      // accessor: take its value over.
      if (Object.prototype.hasOwnProperty.call(this, "accessToken")) {
        const token = this.accessToken;
        delete this.accessToken;
        this._token = token;
      }
    }

    get accessToken() {
      return this._token ?? this.getAttribute("access-token");
    }

    set accessToken(token) {
      this._token = token ?? null;
      this._widget?.setAccessToken(this.accessToken ?? undefined);
    }

    connectedCallback() {
      if (this._widget === null) this._remount();
    }

    disconnectedCallback() {
      // A move is a disconnect and a connect in one go: unmount only if it stays out.
      queueMicrotask(() => {
        if (this.isConnected) return;
        this._widget?.unmount();
        this._widget = null;
      });
    }

    attributeChangedCallback(name, before, after) {
      if (this._widget === null || before === after) return;
      if (name === "access-token") {
        this._widget.setAccessToken(this.accessToken ?? undefined);
      } else {
        this._remount();
      }
    }

    _remount() {
      this._widget?.unmount();
      const settings = {};
      for (const name of SETTINGS) {
        const value = this.getAttribute(name);
        if (value !== null) settings[name] = value;
      }
      const token = this.accessToken;
      if (token) settings["access-token"] = token;
      this._widget = mount(this, settings);
    }
  }

  customElements.define("vantage-sync-status", VantageSyncStatus);
}
