; Inno Setup script for Openweight: a per-user installer that needs no administrator rights.
; installers\windows\build.ps1 runs it after PyInstaller; by hand:
;
;   iscc /DAppVersion=0.1.0 installers\windows\openweight.iss
;
; It installs to %LOCALAPPDATA%\Programs\Openweight, adds a Start-menu entry (and, if asked,
; a desktop icon), and registers an uninstaller under Settings > Apps. Chats, models and
; settings live in the user's data folder (see `openweight-cli info`), apart from the
; program, so uninstalling or upgrading never touches them.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir AddBackslash(SourcePath) + "..\..\dist\Openweight"
#endif
#ifndef OutputDir
  #define OutputDir AddBackslash(SourcePath) + "..\..\dist\installers"
#endif

[Setup]
; The AppId identifies Openweight to Windows across versions: never change it.
AppId={{24C7182E-5961-4E92-BC2F-0EC8C657AA00}
AppName=Openweight
AppVersion={#AppVersion}
AppVerName=Openweight {#AppVersion}
AppPublisher=Openweight
AppComments=Chat privately with open-weight language models on this computer
; Per user: no UAC prompt, {autopf} becomes %LOCALAPPDATA%\Programs.
PrivilegesRequired=lowest
DefaultDirName={autopf}\Openweight
DisableDirPage=auto
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=Openweight-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\openweight.ico
UninstallDisplayIcon={app}\Openweight.exe
UninstallDisplayName=Openweight
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
; Close a running Openweight (and its engine process) before replacing its files.
CloseApplications=yes
RestartApplications=no
; The PATH task below edits the user's environment: tell running programs.
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the command line (openweight-cli) to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Registry]
; Per-user PATH: a new terminal then finds openweight-cli.exe. Removed again on uninstall.
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: PathLacks(ExpandConstant('{app}'))

[InstallDelete]
; An upgrade replaces the whole bundle: files of the old version must not linger beside it.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Openweight"; Filename: "{app}\Openweight.exe"; Comment: "Chat privately with open-weight language models"
Name: "{autodesktop}\Openweight"; Filename: "{app}\Openweight.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Openweight.exe"; Description: "{cm:LaunchProgram,Openweight}"; Flags: nowait postinstall skipifsilent

[Code]
function PathLacks(Folder: string): Boolean;
var
  Current: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
    Result := True
  else
    Result := Pos(';' + Uppercase(Folder) + ';', ';' + Uppercase(Current) + ';') = 0;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Current, Folder: string;
  At: Integer;
begin
  if CurUninstallStep <> usUninstall then
    exit;
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current) then
    exit;
  Folder := ExpandConstant('{app}');
  At := Pos(';' + Uppercase(Folder), Uppercase(Current));
  if At > 0 then
  begin
    Delete(Current, At, Length(Folder) + 1);
    RegWriteExpandStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Current);
  end;
end;
