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
    private readonly Lock _gate = new();
    private readonly HashSet<Process> _pods = [];

    public PodStopSignals()
    {
        foreach (var signal in (ReadOnlySpan<PosixSignal>)[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                Stopping = true;
                lock (_gate)
                {
                    // A terminal's Ctrl-C reaches the pods too; a second SIGTERM changes nothing.
                    foreach (var pod in _pods)
                    {
                        _ = Kill(pod.Id, SigTerm);
                    }
                }
            }));
        }
    }

    /// <summary>Whether a stop was asked for.</summary>
    public bool Stopping { get; private set; }

    /// <summary>Passes a stop on to <paramref name="pod"/> (all the ranks of a multi-node job are watched at once).</summary>
    public void Watch(Process pod)
    {
        lock (_gate)
        {
            _pods.Add(pod);
        }

        if (Stopping)
        {
            _ = Kill(pod.Id, SigTerm);
        }
    }

    /// <summary>Stops passing signals on to <paramref name="pod"/>, which has exited.</summary>
    public void Forget(Process pod)
    {
        lock (_gate)
        {
            _pods.Remove(pod);
        }
    }

    public void Dispose() => _registrations.ForEach(r => r.Dispose());

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
