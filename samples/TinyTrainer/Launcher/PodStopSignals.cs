using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TinyTrainer.Launcher;

/// <summary>
/// Ctrl-C (SIGINT) or SIGTERM to the local launcher stops the running pod the way Kubernetes does: the pod gets SIGTERM,
/// finishes its step, saves it, drains and exits 143; the launcher waits for it instead of dying first.
/// </summary>
internal sealed class PodStopSignals : IDisposable
{
    private const int SigTerm = 15;

    private readonly List<PosixSignalRegistration> _registrations = [];
    private Process? _pod;

    public PodStopSignals()
    {
        foreach (var signal in (ReadOnlySpan<PosixSignal>)[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                Stopping = true;
                if (Volatile.Read(ref _pod) is { } pod)
                {
                    // A terminal's Ctrl-C reaches the pod too; a second SIGTERM changes nothing.
                    _ = Kill(pod.Id, SigTerm);
                }
            }));
        }
    }

    /// <summary>Whether a stop was asked for.</summary>
    public bool Stopping { get; private set; }

    /// <summary>The pod that a stop is passed on to (null between pods).</summary>
    public void Watch(Process? pod)
    {
        Volatile.Write(ref _pod, pod);
        if (pod is not null && Stopping)
        {
            _ = Kill(pod.Id, SigTerm);
        }
    }

    public void Dispose() => _registrations.ForEach(r => r.Dispose());

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
