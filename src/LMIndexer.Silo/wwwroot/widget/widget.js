// LMIndexer recommendation widget: no dependencies, embeddable by <script> or <iframe>.
//   <div data-lmindexer-user="u42" data-lmindexer-count="6"></div>
//   <script src="https://host/widget/widget.js" data-api="https://host"></script>
(function () {
  "use strict";
  const script = document.currentScript;
  const defaultApi = (script && script.dataset.api) || "";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function eventId() {
    return (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random().toString(16).slice(2);
  }

  async function mount(root, options) {
    const api = (options.api ?? defaultApi).replace(/\/$/, "");
    const user = options.user;
    const count = options.count || 6;
    root.classList.add("lmi-widget");
    root.replaceChildren(el("p", "lmi-status", "Loading recommendations…"));
    let data;
    try {
      const response = await fetch(`${api}/api/users/${encodeURIComponent(user)}/recommendations?count=${count}`);
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(problem.detail || problem.title || `HTTP ${response.status}`);
      }
      data = await response.json();
    } catch (error) {
      root.replaceChildren(el("p", "lmi-status lmi-error", `Recommendations are unavailable: ${error.message}`));
      return;
    }
    const list = el("ul", "lmi-items");
    for (const item of data.items) {
      const card = el("li", "lmi-item");
      card.dataset.itemId = item.itemId;
      card.tabIndex = 0;
      card.append(el("span", "lmi-title", item.title || item.itemId));
      if (item.brand) card.append(el("span", "lmi-brand", item.brand));
      if (item.price !== null && item.price !== undefined) card.append(el("span", "lmi-price", `$${Number(item.price).toFixed(2)}`));
      card.append(el("span", `lmi-source lmi-${item.source}`, item.source === "model" ? "for you" : "popular"));
      const click = async () => {
        card.classList.add("lmi-clicked");
        const response = await fetch(`${api}/api/events`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ userId: user, itemId: item.itemId, type: "click", eventId: eventId() }),
        });
        root.dataset.lastClick = response.ok ? item.itemId : `error ${response.status}`;
        root.dispatchEvent(new CustomEvent("lmi-click", { detail: { itemId: item.itemId, ok: response.ok } }));
      };
      card.addEventListener("click", click);
      card.addEventListener("keydown", (e) => { if (e.key === "Enter") click(); });
      list.append(card);
    }
    const footer = el("p", "lmi-version", data.version ? `index ${data.version}` : "popular items");
    root.replaceChildren(list, footer);
    root.dataset.version = data.version || "";
  }

  window.LMIndexerWidget = { mount };
  document.querySelectorAll("[data-lmindexer-user]").forEach((node) =>
    mount(node, { user: node.dataset.lmindexerUser, count: Number(node.dataset.lmindexerCount) || 6 }));
})();
