// LMIndexer recommendation widget: no dependencies, embeddable by <script> or <iframe>.
//   <div data-lmindexer-user="u42" data-lmindexer-count="6"></div>
//   <script src="https://host/widget/widget.js" data-api="https://host"></script>
(function () {
  "use strict";
  const script = document.currentScript;
  const defaultApi = (script && script.dataset.api) || "";
  const minCardWidth = 170; // px, with the gap

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function eventId() {
    return (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // The picture when the catalog has one; otherwise a tile coloured and lettered by the category.
  function picture(item) {
    if (item.imageUrl) {
      const img = el("img", "lmi-image");
      img.src = item.imageUrl;
      img.alt = "";
      img.loading = "lazy";
      return img;
    }
    const label = item.category || item.title || item.itemId;
    let hue = 0;
    for (const ch of label) hue = (hue * 31 + ch.codePointAt(0)) % 360;
    const tile = el("span", "lmi-image lmi-placeholder");
    tile.style.setProperty("--lmi-hue", hue);
    tile.setAttribute("aria-hidden", "true");
    tile.append(el("span", "lmi-initials", label.split(/\s+/).slice(0, 2).map((w) => w[0]).join("").toUpperCase()));
    if (item.category) tile.append(el("span", "lmi-category", item.category));
    return tile;
  }

  // As many columns as fit, but rows balanced: six cards are 3 + 3, not 5 + 1.
  function balance(list, count) {
    const fit = Math.max(1, Math.floor(list.clientWidth / minCardWidth));
    const rows = Math.ceil(count / fit);
    list.style.setProperty("--lmi-columns", Math.ceil(count / rows));
  }

  async function mount(root, options) {
    const api = (options.api ?? defaultApi).replace(/\/$/, "");
    const user = options.user;
    const count = options.count || 6;
    root.classList.add("lmi-widget");
    const status = el("p", "lmi-status", "Loading recommendations…");
    status.setAttribute("role", "status");
    root.replaceChildren(status);
    let data;
    try {
      const response = await fetch(`${api}/api/users/${encodeURIComponent(user)}/recommendations?count=${count}`);
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(problem.detail || problem.title || `HTTP ${response.status}`);
      }
      data = await response.json();
    } catch (error) {
      status.classList.add("lmi-error");
      status.textContent = `Recommendations are unavailable: ${error.message}`;
      return;
    }
    const list = el("ul", "lmi-items");
    list.setAttribute("aria-label", "Recommended for you");
    for (const item of data.items) {
      const entry = el("li", "lmi-entry");
      // A real button: focusable, Enter and Space click it, and screen readers announce its name.
      const card = el("button", "lmi-item");
      card.type = "button";
      card.dataset.itemId = item.itemId;
      const price = item.price !== null && item.price !== undefined ? `$${Number(item.price).toFixed(2)}` : null;
      const reason = item.reason || (item.source === "model" ? "Picked for you" : "Popular right now");
      card.setAttribute("aria-label", [item.title || item.itemId, item.brand, price, reason].filter(Boolean).join(", "));
      card.append(picture(item), el("span", "lmi-title", item.title || item.itemId));
      if (item.brand) card.append(el("span", "lmi-brand", item.brand));
      if (price) card.append(el("span", "lmi-price", price));
      card.append(el("span", `lmi-reason lmi-${item.source}`, reason));
      card.addEventListener("click", async () => {
        card.classList.add("lmi-clicked");
        const response = await fetch(`${api}/api/events`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ userId: user, itemId: item.itemId, type: "click", eventId: eventId() }),
        });
        root.dataset.lastClick = response.ok ? item.itemId : `error ${response.status}`;
        root.dispatchEvent(new CustomEvent("lmi-click", { detail: { itemId: item.itemId, ok: response.ok } }));
      });
      entry.append(card);
      list.append(entry);
    }
    const footer = el("p", "lmi-version", data.version ? `index ${data.version}` : "popular items");
    root.replaceChildren(list, footer);
    root.dataset.version = data.version || "";
    balance(list, data.items.length);
    if (window.ResizeObserver) new ResizeObserver(() => balance(list, data.items.length)).observe(list);
  }

  window.LMIndexerWidget = { mount };
  document.querySelectorAll("[data-lmindexer-user]").forEach((node) =>
    mount(node, { user: node.dataset.lmindexerUser, count: Number(node.dataset.lmindexerCount) || 6 }));
})();
