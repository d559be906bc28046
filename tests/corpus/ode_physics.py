"""ODE integrators and physics energies as simulation codes write them: Euler, RK4 with a
right-hand-side helper returning arrays, symplectic and Verlet steps, pairwise potentials
over particle arrays, and classic chaotic and chemical systems."""
import math

import numpy as np

from corpus import case, mat, positive, vec


def lotka_volterra_rhs(y, a, b, c, d):
    return np.array([a * y[0] - b * y[0] * y[1], -c * y[1] + d * y[0] * y[1]])


@case(np.array([1.0, 0.5]), 1.1, 0.4, 0.4, 0.1, tags=("rk4", "helper-returns-array", "array-literal"))
def rk4_lotka_volterra(y0, a, b, c, d):
    h = 0.1
    y = y0.copy()
    for _ in range(10):
        k1 = lotka_volterra_rhs(y, a, b, c, d)
        k2 = lotka_volterra_rhs(y + 0.5 * h * k1, a, b, c, d)
        k3 = lotka_volterra_rhs(y + 0.5 * h * k2, a, b, c, d)
        k4 = lotka_volterra_rhs(y + h * k3, a, b, c, d)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y[0] + y[1]


@case(1.0, 0.5, 1.1, 0.4, tags=("rk4", "scalars", "tuple-return-helper"))
def rk4_scalar_predator_prey(x, y, a, b):
    h = 0.05

    def rhs_x(u, v):
        return a * u - b * u * v

    def rhs_y(u, v):
        return -0.4 * v + 0.1 * u * v

    for _ in range(10):
        k1x, k1y = rhs_x(x, y), rhs_y(x, y)
        k2x, k2y = rhs_x(x + h / 2 * k1x, y + h / 2 * k1y), rhs_y(x + h / 2 * k1x, y + h / 2 * k1y)
        x, y = x + h * k2x, y + h * k2y
    return x * y


def _lv_derivs(x, y, a, b):
    return a * x - b * x * y, -0.4 * y + 0.1 * x * y


@case(1.0, 0.5, 1.1, 0.4, tags=("midpoint", "helper-returns-tuple"))
def midpoint_predator_prey(x, y, a, b):
    h = 0.05
    for _ in range(10):
        dx, dy = _lv_derivs(x, y, a, b)
        mx, my = _lv_derivs(x + h / 2 * dx, y + h / 2 * dy, a, b)
        x = x + h * mx
        y = y + h * my
    return x * y


@case(0.8, 1.3, tags=("euler", "exponential-decay"))
def euler_decay(y0, k):
    y = y0
    dt = 0.01
    for _ in range(50):
        y = y - dt * k * y
    return y


@case(1.0, 0.0, 2.0, tags=("harmonic-oscillator", "symplectic-euler"))
def symplectic_oscillator(q, p, omega):
    dt = 0.1
    for _ in range(20):
        p = p - dt * omega**2 * q
        q = q + dt * p
    return 0.5 * p**2 + 0.5 * omega**2 * q**2


@case(vec(4), vec(4, seed=1), tags=("velocity-verlet", "spring-chain", "array-state"))
def verlet_spring_chain(x, v):
    dt = 0.05
    n = len(x)

    x = x.copy()
    v = v.copy()
    for _ in range(5):
        f = np.zeros(n)
        for i in range(n - 1):
            s = x[i + 1] - x[i] - 1.0
            f[i] += s
            f[i + 1] -= s
        v = v + 0.5 * dt * f
        x = x + dt * v
        f = np.zeros(n)
        for i in range(n - 1):
            s = x[i + 1] - x[i] - 1.0
            f[i] += s
            f[i + 1] -= s
        v = v + 0.5 * dt * f
    return np.sum(x * v)


@case(mat(4, 2, lo=-2.0, hi=2.0), tags=("lennard-jones", "pairwise", "2d-positions"))
def lennard_jones_energy(pos):
    n = pos.shape[0]
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = pos[i] - pos[j]
            r2 = d[0] ** 2 + d[1] ** 2 + 1.0
            inv6 = 1.0 / r2**3
            energy += 4.0 * (inv6 * inv6 - inv6)
    return energy


@case(mat(4, 2, lo=-2.0, hi=2.0), positive(4), tags=("gravity", "pairwise", "softening", "sqrt"))
def gravitational_potential(pos, mass):
    n = len(mass)
    U = 0.0
    for i in range(n):
        for j in range(n):
            if i < j:
                r = np.sqrt(np.sum((pos[i, :] - pos[j, :]) ** 2) + 0.01)
                U -= mass[i] * mass[j] / r
    return U


@case(mat(3, 2, lo=-2.0, hi=2.0), tags=("coulomb", "vectorized-pairs", "newaxis"))
def coulomb_energy_vectorized(pos):
    diff = pos[:, None, :] - pos[None, :, :]
    r = np.sqrt(np.sum(diff**2, axis=-1) + np.eye(pos.shape[0]))
    return 0.5 * np.sum((1.0 - np.eye(pos.shape[0])) / r)


@case(0.3, 0.0, 9.81, tags=("pendulum", "rk2", "sin"))
def pendulum_heun(theta, omega, g):
    dt = 0.05
    for _ in range(20):
        a1 = -g * math.sin(theta)
        th_p = theta + dt * omega
        om_p = omega + dt * a1
        a2 = -g * math.sin(th_p)
        theta = theta + 0.5 * dt * (omega + om_p)
        omega = omega + 0.5 * dt * (a1 + a2)
    return theta


@case(0.3, 0.1, tags=("sir", "epidemic", "euler"))
def sir_final_recovered(beta, gamma):
    S, I, R = 0.99, 0.01, 0.0
    dt = 0.5
    for _ in range(40):
        new_inf = beta * S * I * dt
        new_rec = gamma * I * dt
        S -= new_inf
        I += new_inf - new_rec
        R += new_rec
    return R


@case(2.0, 0.0, 0.5, tags=("van-der-pol", "nonlinear-damping"))
def van_der_pol(x, v, mu):
    dt = 0.02
    for _ in range(30):
        a = mu * (1 - x * x) * v - x
        x, v = x + dt * v, v + dt * a
    return x**2 + v**2


@case(np.array([1.0, 1.0, 1.0]), 10.0, 28.0, tags=("lorenz", "array-literal", "element-reads"))
def lorenz_euler(state, sigma, rho):
    beta = 8.0 / 3.0
    dt = 0.005
    s = state.copy()
    for _ in range(40):
        x, y, z = s[0], s[1], s[2]
        s = s + dt * np.array([sigma * (y - x), x * (rho - z) - y, x * y - beta * z])
    return s[2]


@case(vec(5), 0.1, tags=("method-of-lines", "heat", "laplacian-matrix"))
def heat_method_of_lines(u, dt):
    n = len(u)
    L = np.zeros((n, n))
    for i in range(n):
        L[i, i] = -2.0
        if i > 0:
            L[i, i - 1] = 1.0
        if i < n - 1:
            L[i, i + 1] = 1.0
    for _ in range(5):
        u = u + dt * (L @ u)
    return np.sum(u**2)


@case(mat(3, 2, lo=-1.0, hi=1.0), mat(3, 2, lo=-0.5, hi=0.5, seed=1), tags=("n-body", "leapfrog", "row-updates"))
def nbody_leapfrog(pos, vel):
    pos = pos.copy()
    vel = vel.copy()
    n = pos.shape[0]
    dt = 0.01
    for _ in range(3):
        acc = np.zeros_like(pos)
        for i in range(n):
            for j in range(n):
                if i != j:
                    d = pos[j] - pos[i]
                    r3 = (np.sum(d * d) + 0.1) ** 1.5
                    acc[i] += d / r3
        vel += dt * acc
        pos += dt * vel
    return np.sum(pos**2)


@case(1.2, 0.3, 0.5, tags=("projectile", "drag", "while", "data-dependent-trip-count"))
def projectile_range(v0, angle, drag):
    x, y = 0.0, 0.0
    vx = v0 * math.cos(angle)
    vy = v0 * math.sin(angle)
    dt = 0.01
    while y >= 0.0:
        speed = math.sqrt(vx * vx + vy * vy)
        vx -= drag * speed * vx * dt
        vy -= (9.81 + drag * speed * vy) * dt
        x += vx * dt
        y += vy * dt
    return x


def _damped_oscillator_partials(t, zeta, omega):
    root = math.sqrt(1 - zeta**2)
    wd = omega * root
    decay = math.exp(-zeta * omega * t)
    c, s = math.cos(wd * t), math.sin(wd * t)
    return {0: decay * (-zeta * omega * c - wd * s),
            1: decay * (-omega * t * c + s * t * omega * zeta / root),
            2: decay * (-zeta * t * c - s * t * root)}


@case(1.0, 0.2, 0.3, tags=("damped-oscillator", "closed-form"), closed=_damped_oscillator_partials)
def damped_oscillator_analytic(t, zeta, omega):
    wd = omega * math.sqrt(1 - zeta**2)
    return math.exp(-zeta * omega * t) * math.cos(wd * t)


@case(np.array([1.0, 1e-3, 0.0]), 0.04, 1e4, 3e5, tags=("robertson", "stiff-kinetics", "small-steps"), tol=10.0)
def robertson_kinetics(y, k1, k2, k3):
    y = y.copy()
    dt = 1e-5
    for _ in range(20):
        r1 = k1 * y[0]
        r2 = k2 * y[1] * y[2]
        r3 = k3 * y[1] * y[1]
        y[0] += dt * (-r1 + r2)
        y[1] += dt * (r1 - r2 - r3)
        y[2] += dt * r3
    return y[1] * 1e4 + y[2]


@case(0.3, 3.7, tags=("logistic-map", "chaos-short"))
def logistic_map(x, r):
    for _ in range(8):
        x = r * x * (1 - x)
    return x


@case(vec(4), tags=("morse-chain", "exp", "pairwise-neighbours"))
def morse_chain_energy(x):
    E = 0.0
    for i in range(len(x) - 1):
        r = x[i + 1] - x[i] + 1.5
        E += (1 - np.exp(-1.2 * (r - 1.0))) ** 2
    return E


@case(0.1, 0.8, 0.25, tags=("duffing", "forced", "cos-time"))
def duffing(x, v, gamma):
    dt = 0.05
    t = 0.0
    for _ in range(20):
        a = -0.2 * v + x - x**3 + gamma * math.cos(1.2 * t)
        v = v + dt * a
        x = x + dt * v
        t += dt
    return x


@case(1.0, 1.5, tags=("brusselator", "two-species"))
def brusselator(u, v):
    a, b = 1.0, 3.0
    dt = 0.02
    for _ in range(25):
        du = a + u * u * v - (b + 1) * u
        dv = b * u - u * u * v
        u += dt * du
        v += dt * dv
    return u + v


@case(vec(3, lo=-0.5, hi=0.5), vec(3, lo=-0.5, hi=0.5, seed=1), 0.7, tags=("hamiltonian", "energy", "cos"))
def pendulum_chain_hamiltonian(q, p, k):
    kinetic = 0.5 * np.sum(p**2)
    potential = np.sum(1 - np.cos(q))
    coupling = 0.5 * k * np.sum((q[1:] - q[:-1]) ** 2)
    return kinetic + potential + coupling


@case(vec(4), 0.1, tags=("gradient-flow", "array-rebinding", "helper-gradient"))
def gradient_flow(x, lr):
    for _ in range(5):
        g = 4 * x**3 - 2 * x
        x = x - lr * g
    return np.sum(x**4 - x**2)


@case(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 1.0, tags=("kepler", "orbit", "element-writes"))
def kepler_orbit(r, v, gm):
    r = r.copy()
    v = v.copy()
    dt = 0.05
    for _ in range(10):
        d3 = (r[0] ** 2 + r[1] ** 2) ** 1.5
        v[0] -= dt * gm * r[0] / d3
        v[1] -= dt * gm * r[1] / d3
        r[0] += dt * v[0]
        r[1] += dt * v[1]
    return 0.5 * (v[0] ** 2 + v[1] ** 2) - gm / math.sqrt(r[0] ** 2 + r[1] ** 2)


@case(vec(4, lo=0.5, hi=1.0), 0.2, tags=("implicit-euler", "newton-inner-loop"))
def implicit_euler_cubic(y, dt):
    y = y.copy()
    for _ in range(3):
        z = y.copy()
        for _ in range(4):
            F = z - y + dt * z**3
            J = 1 + 3 * dt * z**2
            z = z - F / J
        y = z
    return np.sum(y)


@case(0.3, 0.2, tags=("adams-bashforth", "multistep", "history-variables"))
def adams_bashforth2(y0, k):
    dt = 0.05
    f_prev = -k * y0 + math.sin(y0)
    y = y0 + dt * f_prev
    for _ in range(15):
        f_cur = -k * y + math.sin(y)
        y = y + dt * (1.5 * f_cur - 0.5 * f_prev)
        f_prev = f_cur
    return y


@case(vec(3, lo=0.5, hi=1.5), tags=("rigid-rotation", "euler-equations", "cross-terms"))
def free_rigid_body(w):
    I1, I2, I3 = 1.0, 2.0, 3.0
    w1, w2, w3 = w[0], w[1], w[2]
    dt = 0.01
    for _ in range(20):
        d1 = (I2 - I3) / I1 * w2 * w3
        d2 = (I3 - I1) / I2 * w3 * w1
        d3 = (I1 - I2) / I3 * w1 * w2
        w1, w2, w3 = w1 + dt * d1, w2 + dt * d2, w3 + dt * d3
    return I1 * w1**2 + I2 * w2**2 + I3 * w3**2
