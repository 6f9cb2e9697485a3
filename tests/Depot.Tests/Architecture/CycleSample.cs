// Two namespaces that use each other, on purpose: ArchitectureTests.CycleCheckFindsACycle shows the cycle check fails
// when such an edge pair exists (a permanent stand-in for "introduce a cycle temporarily and watch the test fail").
namespace Depot.Tests.Architecture.CycleSample.Left
{
    internal sealed class UsesRight
    {
        public Right.UsesLeft? Partner { get; set; }
    }
}

namespace Depot.Tests.Architecture.CycleSample.Right
{
    internal sealed class UsesLeft
    {
        public Left.UsesRight? Partner { get; set; }
    }
}
