import UVLoop

/// The single-page chat client served at `GET /` by `ChatExample --http-port`: plain HTML, CSS
/// and JavaScript written here, with nothing fetched from elsewhere.
///
/// It joins the room at `GET /chat` over WebSocket (one text message a line, both ways), shows
/// the conversation in `#log`, who is in the room in `#who` and the connection state in
/// `#state`; `#message` sends on Enter. It reconnects by itself with backoff (0.5 s doubling to
/// 10 s) when the connection drops, and shows every text with `textContent`, never as HTML, so
/// nothing another participant sends can inject markup.
public enum ChatPage {
    /// The page, as served.
    public static let html = Bytes(
        #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>UVLoop chat</title>
        <style>
          :root { --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --muted: #6b7280; --accent: #2563eb; --line: #e5e7eb; }
          * { box-sizing: border-box; }
          body { margin: 0; font: 15px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--ink);
                 display: grid; grid-template-rows: auto 1fr auto; height: 100vh; }
          header { display: flex; align-items: center; gap: 12px; padding: 10px 16px; background: var(--panel);
                   border-bottom: 1px solid var(--line); }
          header h1 { font-size: 17px; margin: 0; }
          #state { font-size: 13px; padding: 2px 10px; border-radius: 999px; background: #fee2e2; color: #991b1b; }
          #state.open { background: #dcfce7; color: #166534; }
          #state.connecting { background: #fef9c3; color: #854d0e; }
          #me { margin-left: auto; color: var(--muted); font-size: 13px; }
          main { display: grid; grid-template-columns: 1fr 220px; min-height: 0; }
          #log { overflow-y: auto; padding: 12px 16px; margin: 0; list-style: none; }
          #log li { padding: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
          #log li.notice { color: var(--muted); font-style: italic; }
          #log li.mine { color: var(--accent); }
          #log .name { font-weight: 600; }
          aside { border-left: 1px solid var(--line); background: var(--panel); padding: 12px 16px; overflow-y: auto; }
          aside h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 8px; }
          #who { list-style: none; margin: 0; padding: 0; }
          #who li { padding: 2px 0; overflow-wrap: anywhere; }
          form { display: flex; gap: 8px; padding: 10px 16px; background: var(--panel); border-top: 1px solid var(--line); }
          #message { flex: 1; font: inherit; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; }
          button { font: inherit; padding: 8px 16px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; }
          @media (max-width: 640px) { main { grid-template-columns: 1fr; } aside { display: none; } }
        </style>
        </head>
        <body>
        <header><h1>UVLoop chat</h1><span id="state" class="connecting">connecting…</span><span id="me"></span></header>
        <main>
          <ul id="log" aria-live="polite"></ul>
          <aside><h2>In the room <span id="count"></span></h2><ul id="who"></ul></aside>
        </main>
        <form id="send" autocomplete="off">
          <input id="message" placeholder="Type a message, or /help" maxlength="4000" autofocus>
          <button type="submit">Send</button>
        </form>
        <script>
        "use strict";
        const log = document.getElementById("log"), whoList = document.getElementById("who");
        const stateBadge = document.getElementById("state"), meLabel = document.getElementById("me");
        const box = document.getElementById("message"), count = document.getElementById("count");
        let socket = null, delay = 500, myName = "", pendingWho = 0, whoTimer = null;
        const people = new Set();

        function setState(text, cls) { stateBadge.textContent = text; stateBadge.className = cls; }

        // Every text is shown through textContent: nothing from the server becomes markup.
        function show(text, cls) {
          const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
          const item = document.createElement("li");
          const colon = text.indexOf(": ");
          if (!cls && colon > 0 && !text.slice(0, colon).includes(" ")) {
            const name = document.createElement("span");
            name.className = "name";
            name.textContent = text.slice(0, colon);
            item.append(name, document.createTextNode(text.slice(colon)));
          } else {
            item.textContent = text;
          }
          if (cls) item.className = cls;
          log.append(item);
          while (log.children.length > 2000) log.firstChild.remove();
          if (atBottom) log.scrollTop = log.scrollHeight;
        }

        function renderWho() {
          whoList.replaceChildren(...[...people].sort().map(name => {
            const item = document.createElement("li");
            item.textContent = name === myName ? name + " (you)" : name;
            return item;
          }));
          count.textContent = "(" + people.size + ")";
        }

        // Asks the room who is here, a little after the last change; the answer is not shown.
        function refreshWho(soon) {
          clearTimeout(whoTimer);
          whoTimer = setTimeout(() => {
            if (socket && socket.readyState === WebSocket.OPEN) { pendingWho++; socket.send("/who"); }
          }, soon ? 0 : 400);
        }

        function received(line) {
          let match;
          if ((match = /^In the room \((\d+)\): (.*)$/.exec(line)) && pendingWho > 0) {
            pendingWho--;
            people.clear();
            for (const name of match[2].split(", ")) if (name && !name.startsWith("…")) people.add(name);
            renderWho();
            return;
          }
          if ((match = /^Welcome to the chat! You are (\S+)\./.exec(line))) {
            myName = match[1]; meLabel.textContent = "you are " + myName; refreshWho(true);
          } else if ((match = /^You are now known as (\S+)\.$/.exec(line))) {
            myName = match[1]; meLabel.textContent = "you are " + myName; refreshWho();
          }
          const notice = /^(\S+ (joined|left)( \(.*\))?|\S+ is now known as \S+|\* .*|.* joined and .* left .*)$/.test(line)
            || !/^\S+: /.test(line);
          show(line, notice ? "notice" : "");
          if (/^\S+ (joined|left)|^\S+ is now known as \S+$| joined and .* left /.test(line)) refreshWho();
        }

        function connect() {
          setState("connecting…", "connecting");
          const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chat";
          socket = new WebSocket(url);
          socket.onopen = () => { delay = 500; pendingWho = 0; setState("connected", "open"); };
          socket.onmessage = event => received(String(event.data));
          socket.onclose = () => {
            setState("disconnected — retrying in " + (delay / 1000) + " s", "closed");
            people.clear(); renderWho();
            setTimeout(connect, delay);
            delay = Math.min(delay * 2, 10000);
          };
        }

        document.getElementById("send").addEventListener("submit", event => {
          event.preventDefault();
          const text = box.value;
          if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
          socket.send(text);
          if (!text.startsWith("/")) show((myName || "you") + ": " + text, "mine");
          else if (text.startsWith("//")) show((myName || "you") + ": " + text.slice(1), "mine");
          else if (text.startsWith("/me ")) show("* " + (myName || "you") + " " + text.slice(4), "mine");
          box.value = "";
        });
        connect();
        </script>
        </body>
        </html>

        """#
    )
}
