# Build Openweight for Windows: the PyInstaller bundle (dist\Openweight\) and a per-user
# installer, dist\installers\Openweight-<version>-windows-x64-setup.exe, made with Inno Setup 6.
#
#   powershell -ExecutionPolicy Bypass -File installers\windows\build.ps1
#   powershell -ExecutionPolicy Bypass -File installers\windows\build.ps1 -Python C:\path\python.exe
#
# Without -Python it uses .venv\Scripts\python.exe, creating that environment first if needed
# (Python 3.11+ from python.org, Visual Studio Build Tools with "Desktop development with
# C++", and CMake build llama.cpp). Inno Setup 6: https://jrsoftware.org/isinfo.php, or
# `winget install JRSoftware.InnoSetup`; without it only the bundle is built.
#
# Code signing, only when set: OPENWEIGHT_SIGN_PFX (a .pfx certificate file) and
# OPENWEIGHT_SIGN_PASSWORD; signtool.exe comes with the Windows SDK. Unsigned installers
# work, but SmartScreen warns ("Windows protected your PC" > More info > Run anyway).
param(
    [string]$Python = ""
)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root

function Invoke-Checked {
    # PowerShell does not stop on a failing program by itself: check each exit code.
    param([string]$Exe, [string[]]$Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed ($LASTEXITCODE)" }
}

if (-not $Python) {
    $Python = Join-Path $Root ".venv\Scripts\python.exe"
    if (-not (Test-Path $Python)) {
        Write-Host "==> creating .venv"
        Invoke-Checked "py" @("-3", "-m", "venv", ".venv")
        Invoke-Checked $Python @("-m", "pip", "install", "--quiet", "--upgrade", "pip")
        Invoke-Checked $Python @("-m", "pip", "install", "--quiet", "-e", ".")
    }
}
$Version = (& $Python -c "import desktop; print(desktop.__version__)").Trim()
if ($LASTEXITCODE -ne 0) { throw "cannot import the app with $Python" }

Write-Host "==> PyInstaller bundle (Openweight $Version)"
Invoke-Checked $Python @("-m", "pip", "install", "--quiet", "pyinstaller>=6.10")
Invoke-Checked $Python @("-m", "PyInstaller", "installers\openweight.spec", "--noconfirm",
    "--distpath", "dist", "--workpath", "build\pyinstaller")
Invoke-Checked "dist\Openweight\openweight-cli.exe" @("--version")

function Sign-File([string]$Path) {
    if (-not $env:OPENWEIGHT_SIGN_PFX) { return }
    $signtool = (Get-Command signtool.exe -ErrorAction SilentlyContinue).Source
    if (-not $signtool) {
        $signtool = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" |
            Sort-Object FullName | Select-Object -Last 1 -ExpandProperty FullName
    }
    if (-not $signtool) { throw "OPENWEIGHT_SIGN_PFX is set but signtool.exe was not found" }
    Invoke-Checked $signtool @("sign", "/f", $env:OPENWEIGHT_SIGN_PFX, "/p", $env:OPENWEIGHT_SIGN_PASSWORD,
        "/fd", "sha256", "/tr", "http://timestamp.digicert.com", "/td", "sha256", $Path)
}
Sign-File "dist\Openweight\Openweight.exe"
Sign-File "dist\Openweight\openweight-cli.exe"

$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
foreach ($candidate in @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
                         "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
                         "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe")) {
    if (-not $Iscc -and (Test-Path $candidate)) { $Iscc = $candidate }
}
if (-not $Iscc) {
    Write-Host "==> Inno Setup not found: the bundle is in dist\Openweight, no installer made"
    exit 0
}
Write-Host "==> installer"
Invoke-Checked $Iscc @("/Qp", "/DAppVersion=$Version", "installers\windows\openweight.iss")
$Setup = "dist\installers\Openweight-$Version-windows-x64-setup.exe"
Sign-File $Setup
Write-Host "==> done: $Setup"
