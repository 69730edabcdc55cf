// The ceremony page's device: one action per step, in Vietnamese. The member's secret (the
// state of ceremony-device.js) is kept in this browser's localStorage under the vote, the
// attempt and the member, and on the printed card; only public values are sent. Steps that need
// no decision (opening the shares received, complaining of a bad one, answering a complaint)
// are done as soon as the page sees them; while others are awaited the page asks again every
// few seconds.

import qrcode from "../vendor/qrcode-generator/qrcode-generator-2.0.4.js";
import * as device from "./ceremony-device.js";

const root = document.getElementById("device");
const $ = (id) => document.getElementById(id);
let server = null;
let timer = null;
let busy = false;

function storeKey() { return `consult-ceremony/${server.setup.vote_id}/${server.attempt}/${server.member}`; }

function load() {
  try { return JSON.parse(localStorage.getItem(storeKey())); } catch (e) { return null; }
}

function save(state) { localStorage.setItem(storeKey(), JSON.stringify(state)); }

function names(members) { return members.map((m) => "số " + m).join(", "); }

function qualifiedCommitments() {
  const out = {};
  for (const m of server.qualified) out[m] = server.announcements[m].commitments;
  return out;
}

async function post(step, body) {
  const response = await fetch(root.dataset.step + "/" + step, {
    method: "POST", credentials: "same-origin", cache: "no-store",
    headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || "Máy chủ không nhận bước này; hãy tải lại trang và thử lại.");
  return data.result;
}

function show(title, text, label, run) {
  $("step-title").textContent = title;
  $("step-text").textContent = text;
  const button = $("step-action");
  button.hidden = !label;
  button.disabled = false;
  button.textContent = label || "";
  button.onclick = label ? () => act(run) : null;
  root.dataset.phase = title;
}

function wait(title, text) {
  show(title, text);
  clearTimeout(timer);
  timer = setTimeout(refresh, 3000);
}

async function act(run) {
  if (busy) return;
  busy = true;
  $("step-action").disabled = true;
  $("step-error").hidden = true;
  try {
    await run();
  } catch (e) {
    $("step-error").textContent = e.message;
    $("step-error").hidden = false;
  } finally {
    busy = false;
  }
  await refresh();
}

const SVG = "http://www.w3.org/2000/svg";

function qrSvg(text) {
  // The modules as one path, four modules of quiet zone around them.
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount(), quiet = 4;
  let d = "";
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + quiet},${r + quiet}h1v1h-1z`;
  }
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${n + 2 * quiet} ${n + 2 * quiet}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  const back = document.createElementNS(SVG, "rect");
  back.setAttribute("width", "100%");
  back.setAttribute("height", "100%");
  back.setAttribute("fill", "#fff");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(back, path);
  return svg;
}

function showCard(state) {
  const code = device.cardCode(state);
  if ($("share-code").textContent !== code) {
    // The card's QR code, drawn here: it holds the member's secret, which the server never sees.
    $("card-qr").replaceChildren(qrSvg(code));
  }
  $("share-code").textContent = code;
  $("card-fingerprint").textContent = server.fingerprint || "(có khi mọi thành viên đã xác nhận)";
  $("share-card").hidden = false;
}

async function automatic(state) {
  // Answer each complaint against this member by revealing the share in question.
  for (const recipient of server.complaints_against_me) {
    await post("reveal", { recipient, share: device.revealedShare(state, recipient) });
  }
  // Open each share received; complain of one that does not hold.
  state.complained = state.complained || [];
  for (const [sender, sealed] of Object.entries(server.sealed)) {
    if (sender in state.received || !server.qualified.includes(Number(sender))) continue;
    const revealed = server.revealed[sender];
    if (revealed !== undefined) {
      if (device.acceptRevealed(state, Number(sender), server.announcements[sender], revealed)) save(state);
      continue;
    }
    if (state.complained.includes(sender)) continue;
    if (device.receive(state, Number(sender), server.announcements[sender], sealed)) {
      save(state);
    } else {
      await post("complain", { sender: Number(sender) });
      state.complained.push(sender);
      save(state);
    }
  }
}

async function ceremonyStep(me, state) {
  if (!me.announced) {
    if (!state) {
      show("Bước 1: Tạo phần khóa của bạn",
           "Thiết bị này tạo phần bí mật của bạn và gửi lên máy chủ phần công khai của nó (các cam kết và chứng minh).",
           "Tạo phần khóa của tôi", async () => {
             const fresh = device.newMember(server.setup, server.member);
             save(fresh);
             await post("announce", device.announcement(fresh));
           });
    } else {
      show("Bước 1: Gửi phần công khai", "Phần khóa đã tạo trên thiết bị này nhưng chưa gửi được lên máy chủ.",
           "Gửi phần công khai", () => post("announce", device.announcement(state)));
    }
    return;
  }
  if (!state || (!state.ceremony_secret && !state.key_share)) {
    show("Thiết bị này không giữ phần khóa của bạn",
         "Phần khóa của bạn được tạo trên một thiết bị hoặc trình duyệt khác, hoặc dữ liệu trình duyệt đã bị xóa. "
         + "Hãy mở trang này trên thiết bị lúc đầu; nếu không còn, đề nghị người mở biểu quyết «Bắt đầu lại lễ tạo khóa».");
    return;
  }
  if (!me.shares_sent) {
    const waiting = server.members.filter((m) => !m.announced).map((m) => m.member);
    if (waiting.length) {
      wait("Bước 2: Chờ các thành viên khác", `Chờ thành viên ${names(waiting)} tạo phần khóa của mình.`);
    } else {
      show("Bước 2: Gửi phần khóa cho các thành viên khác",
           "Mỗi thành viên nhận một phần khóa do thiết bị này niêm phong riêng cho họ; máy chủ không mở được.",
           "Gửi phần khóa", () => post("shares", { shares: device.sealedShares(state, server.announcements) }));
    }
    return;
  }
  if (state.key_share) {
    showCard(state);
    if (me.confirmed) {
      wait("Bước 3: Đã xác nhận", "In phiếu giữ khóa ngay. Chờ các thành viên khác xác nhận.");
    } else {
      show("Bước 3: Xác nhận phần khóa", "Gửi lại xác nhận lên máy chủ.", "Xác nhận phần khóa của tôi",
           () => post("confirm", { public_share: device.publicShare(state) }));
    }
    return;
  }
  await automatic(state);
  const needed = server.qualified.filter((m) => !(String(m) in state.received));
  if (needed.length) {
    const complained = needed.filter((m) => (state.complained || []).includes(String(m)));
    wait("Bước 3: Chờ phần khóa", complained.length
      ? `Phần khóa của thành viên ${names(complained)} không đúng; đã khiếu nại. Chờ họ trả lời, hoặc người mở biểu quyết loại thành viên không trả lời.`
      : `Chờ phần khóa của thành viên ${names(needed)}.`);
    return;
  }
  show("Bước 3: Xác nhận phần khóa và in phiếu giữ khóa",
       "Mọi phần khóa bạn nhận đều đúng. Thiết bị này tính phần khóa của bạn, xóa những gì còn lại, và hiện phiếu giữ khóa để in.",
       "Xác nhận phần khóa của tôi", async () => {
         const publicShare = device.finish(state, server.qualified);
         save(state);
         await post("confirm", { public_share: publicShare });
       });
}

function restoreStep() {
  show("Nhập phiếu giữ khóa",
       "Thiết bị này không còn giữ phần khóa của bạn. Nhập mã in trên phiếu giữ khóa để giải mã phần của bạn.");
  $("restore").hidden = false;
  $("restore-action").onclick = () => act(async () => {
    const restored = device.restoreFromCard(server.setup, server.member, $("card-code").value, qualifiedCommitments());
    save(restored);
    $("restore").hidden = true;
  });
}

async function countStep(me, state) {
  if (!server.qualified.includes(server.member)) {
    show("Bạn không có phần khóa hợp lệ", "Bạn đã bị loại ở lễ tạo khóa; các thành viên khác kiểm phiếu.");
    return;
  }
  if (!state || !state.key_share) { restoreStep(); return; }
  $("restore").hidden = true;
  showCard(state);
  const count = server.count;
  if (!count) {
    wait("Lễ tạo khóa đã xong", "Giữ phiếu giữ khóa cẩn thận. Khi kết thúc biểu quyết và máy chủ đã kiểm phiếu, "
         + "mở lại trang này để giải mã phần của bạn.");
    return;
  }
  if (count.sent.includes(server.member)) {
    wait("Đã giải mã phần của bạn", `Đã có phần giải mã của thành viên ${names(count.sent)}; cần ${server.setup.threshold}.`);
    return;
  }
  show("Giải mã phần của bạn", "Thiết bị này giải mã phần của bạn ở tổng phiếu của từng khu dân cư"
       + (count.texts.length ? ` và ở ${count.texts.length} ý kiến ghi chữ niêm phong (phần lớn để trống)` : "")
       + ", kèm chứng minh; "
       + "máy chủ kiểm chứng minh rồi ghép đủ đa số để có kết quả. Không ai ghép lại được khóa.",
       "Giải mã phần của tôi", () => post("partials", {
         member: server.member,
         partials: count.sums.map((s) => Object.assign({ group: s.group, choice: s.choice },
                                                        device.partialDecrypt(state, s.context, s.alpha))),
         texts: count.texts.map((t) => device.partialDecrypt(state, t.context, t.alpha)),
       }));
}

async function refresh() {
  clearTimeout(timer);
  try {
    const response = await fetch(root.dataset.state, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error("Không tải được trạng thái lễ tạo khóa; hãy tải lại trang.");
    server = await response.json();
    const me = server.members.find((m) => m.member === server.member);
    const state = load();
    if (me.disqualified && !server.finished) {
      show("Bạn đã bị loại khỏi lần tạo khóa này", me.disqualified + ". Nếu còn đủ thành viên hợp lệ, các thành viên khác tiếp tục; "
           + "nếu không, người mở biểu quyết bắt đầu lại lễ tạo khóa.");
    } else if (server.finished) {
      await countStep(me, state);
    } else {
      await ceremonyStep(me, state);
    }
  } catch (e) {
    $("step-error").textContent = e.message;
    $("step-error").hidden = false;
    timer = setTimeout(refresh, 5000);
  }
}

root.hidden = false;
$("print-card").addEventListener("click", () => window.print());
refresh();
