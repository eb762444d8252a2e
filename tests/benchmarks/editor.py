"""The mask editor on a 50 MP photo in Chromium: drawing, undo, and the export, against
the browser's own PNG encoding of the same canvas (the part no code of ours can speed up)."""

from pathlib import Path

from playwright.sync_api import sync_playwright

from .server import gunicorn, shell

CHROMIUM = Path("/usr/bin/chromium")

SETUP = """
import io
from PIL import Image, ImageDraw
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from homedesign.accounts.models import User
from homedesign.projects.models import Project
from homedesign.projects.services import photo_add

image = Image.linear_gradient("L").resize((8660, 5773)).convert("RGB")
ImageDraw.Draw(image).rectangle((3000, 2000, 5000, 4000), fill=(180, 60, 50))
buffer = io.BytesIO()
image.save(buffer, "JPEG", quality=85)
user = User.objects.create_user("editor@example.com", "a long passphrase 123")
project = Project.objects.create(owner=user, name="Editor")
photo = photo_add(project=project, upload=SimpleUploadedFile("big.jpg", buffer.getvalue()))
client = Client(HTTP_HOST="localhost")
client.force_login(user)
print(f"/photos/{photo.pk}/edits/item_removal_mask/", client.cookies["sessionid"].value)
"""

MEASURE = """async () => {
  const canvas = document.getElementById("mask");
  const box = canvas.getBoundingClientRect();
  const ctx = canvas.getContext("2d");
  // Canvas calls only record work; reading a pixel back makes the time include drawing it.
  const time = async (work) => {
    const t = performance.now();
    await work();
    ctx.getImageData(0, 0, 1, 1);
    return performance.now() - t;
  };
  // Twenty strokes of fifty segments, as a hand would paint them.
  const stage = document.getElementById("stage");
  const send = (type, x, y) => stage.dispatchEvent(new PointerEvent(type, {
    clientX: box.left + box.width * x, clientY: y, pointerId: 1, button: 0,
    pointerType: "mouse", bubbles: true,
  }));
  const draw = await time(async () => {
    for (let s = 0; s < 20; s += 1) {
      const y = box.top + box.height * (0.2 + s * 0.03);
      send("pointerdown", 0.3, y);
      for (let i = 1; i <= 50; i += 1) send("pointermove", 0.3 + i * 0.008, y);
      send("pointerup", 0.7, y);
    }
  });
  const undo = await time(async () => document.getElementById("undo").click());
  const plain = await time(async () => {
    const copy = new OffscreenCanvas(canvas.width, canvas.height);
    copy.getContext("2d").drawImage(canvas, 0, 0);
    await copy.convertToBlob({type: "image/png"});
  });
  let size = 0;
  const ours = await time(async () => { size = (await window.maskEditor.exportMask()).size; });
  return {draw, undo, plain, ours, size, width: canvas.width, height: canvas.height};
}"""


def run(tmp: str, env: dict) -> None:
    path, session = shell(SETUP, env)
    port = 8766
    with gunicorn(env, port), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM) if CHROMIUM.exists() else None,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies(
            [{"name": "sessionid", "value": session, "url": f"http://localhost:{port}"}]
        )
        page = context.new_page()
        page.goto(f"http://localhost:{port}{path}")
        page.wait_for_function("() => document.getElementById('photo').complete")
        figures = page.evaluate(MEASURE)
        browser.close()
    megapixels = figures["width"] * figures["height"] / 1e6
    print(
        f"Mask editor: {figures['width']} × {figures['height']} ({megapixels:.0f} MP) in Chromium"
    )
    print(f"  20 strokes × 50 segments drawn        {figures['draw']:8.0f} ms "
          f"({figures['draw'] / 1000:.1f} ms a segment)")  # fmt: skip
    print(f"  undo (replays the other 19 strokes)   {figures['undo']:8.0f} ms")
    print(f"  browser PNG encoding alone (baseline) {figures['plain']:8.0f} ms  1.00×")
    ratio = figures["ours"] / figures["plain"]
    print(f"  our export (exact colours + PNG)      {figures['ours']:8.0f} ms  {ratio:.2f}×  "
          f"({figures['size'] / 1e3:.0f} kB)\n")  # fmt: skip
