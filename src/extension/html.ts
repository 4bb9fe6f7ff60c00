// The panel's HTML shell: strict CSP with a per-load nonce; only local CSS, font and script.
// Everything else is built by dist/webview.js.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

/** `script` and `styles` name the bundle and extra stylesheets (the review panel has its own). */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, script = 'webview.js', styles: string[] = [], title = 'FG-CAM'): string {
  const nonce = randomBytes(16).toString('base64');
  const uri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('dist', 'media', 'codicon.css')}">
<link rel="stylesheet" href="${uri('media', 'panel.css')}">
${styles.map((s) => `<link rel="stylesheet" href="${uri('media', s)}">`).join('\n')}
<title>${title}</title>
</head>
<body>
<main id="app" data-testid="panel"></main>
<script nonce="${nonce}" src="${uri('dist', script)}"></script>
</body>
</html>`;
}
